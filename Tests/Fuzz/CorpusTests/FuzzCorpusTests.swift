import Foundation
import FuzzTargets
import XCTest

/// Every committed seed and every input the fuzzer ever found a fault with goes through its
/// target on each test run, in the ordinary build, so a fixed fault stays fixed without the
/// fuzzer being built.
final class FuzzCorpusTests: XCTestCase {
    private let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    func testEveryTargetHasASeedCorpus() throws {
        for target in FuzzTarget.all {
            let seeds = try files(in: "corpus", target.name)
            XCTAssertGreaterThanOrEqual(seeds.count, 3, "Tests/Fuzz/corpus/\(target.name) holds too few seeds")
        }
        let folders = try FileManager.default.contentsOfDirectory(atPath: fuzzFolder.appendingPathComponent("corpus").path)
        XCTAssertEqual(Set(folders), Set(FuzzTarget.all.map(\.name)), "a corpus folder names no target, or a target has none")
    }

    func testEverySeedAndEveryFindingRunsThrough() throws {
        var inputs = 0
        for target in FuzzTarget.all {
            for file in try files(in: "corpus", target.name) + files(in: "findings", target.name) {
                target.run(Array(try Data(contentsOf: file)))
                inputs += 1
            }
        }
        XCTAssertGreaterThan(inputs, 30)
    }

    private func files(in kind: String, _ target: String) throws -> [URL] {
        let folder = fuzzFolder.appendingPathComponent(kind).appendingPathComponent(target)
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.path < $1.path }
    }
}
