import XCTest
@testable import DoH

final class AsyncLimiterTests: XCTestCase {
    actor Gauge {
        var current = 0, highest = 0
        func enter() { current += 1; highest = max(highest, current) }
        func leave() { current -= 1 }
    }

    func testNeverMoreThanTheLimitRunAtOnce() async {
        let limiter = AsyncLimiter(limit: 3)
        let gauge = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await limiter.run {
                        await gauge.enter()
                        try? await Task.sleep(for: .milliseconds(2))
                        await gauge.leave()
                    }
                }
            }
        }
        let highest = await gauge.highest
        XCTAssertEqual(highest, 3)
    }
}
