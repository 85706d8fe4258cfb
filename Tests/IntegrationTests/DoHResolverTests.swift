@testable import Curl
import DoH
import Foundation
import XCTest

/// The resolver against the real BIND fixture over DNS-over-HTTPS.
final class DoHResolverTests: XCTestCase {
    func testAnswersFromTheFixture() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        for method in [DoHConfiguration.Method.post, .get] {
            var configuration = fixtures.resolverConfiguration()
            configuration.method = method
            let resolver = DoHResolver(configuration: configuration, client: client)
            let mx = await resolver.lookup("good.test", .mx)
            XCTAssertEqual(mx.status, .found, "\(method)")
            XCTAssertEqual(mx.records.first?.data, .mx(preference: 10, exchange: "mx1.good.test"))
            let absent = await resolver.lookup("nothing-here.test", .txt)
            XCTAssertEqual(absent.status, .nxDomain)
            let nodata = await resolver.lookup("good.test", .aaaa)
            XCTAssertEqual(nodata.status, .noData)
        }
    }

    /// DoH queries run on easy handles kept from earlier ones; a transfer that failed leaves
    /// nothing behind, and an HTTP error is still an error, for the query it belonged to alone.
    func testReusedHandlesCarryNothingFromOneQueryToTheNext() async throws {
        let fixtures = try Fixtures.load()
        guard !fixtures.faultyResolverURL.isEmpty else { throw XCTSkip("faulty-doh is not running") }
        try "http500.good.test TXT http500\nslow.good.test TXT timeout\n".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8)
        defer { try? "".write(toFile: fixtures.faultRules, atomically: true, encoding: .utf8) }
        let client = CurlClient()
        defer { client.shutdown() }
        var configuration = fixtures.resolverConfiguration(timeout: .seconds(1))
        configuration.url = fixtures.faultyResolverURL
        configuration.retries = 0
        configuration.maxCacheSeconds = 0   // every round asks the server again
        configuration.errorCacheSeconds = 0
        let resolver = DoHResolver(configuration: configuration, client: client)
        for round in 0..<3 {
            let good = await resolver.lookup("good.test", .mx)
            XCTAssertEqual(good.records.first?.data, .mx(preference: 10, exchange: "mx1.good.test"), "round \(round)")
            let failed = await resolver.lookup("http500.good.test", .txt)
            XCTAssertEqual(failed.status, .error("DoH server answered HTTP 500"))
            let timedOut = await resolver.lookup("slow.good.test", .txt)
            XCTAssertTrue(timedOut.isError, "\(timedOut.status)")
            let absent = await resolver.lookup("nothing-here-\(round).test", .txt)
            XCTAssertEqual(absent.status, .nxDomain, "round \(round): a new question after the failures")
        }
        let figures = client.handlePoolFigures
        XCTAssertGreaterThan(figures.reused, 0, "queries ran on kept handles")
        XCTAssertLessThanOrEqual(figures.waiting, 64)
    }

    func testNearly64KiBTXTRecordArrivesWhole() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        let resolver = DoHResolver(configuration: fixtures.resolverConfiguration(), client: client)
        let big = await resolver.lookup("big.hostile.test", .txt)
        XCTAssertEqual(big.status, .found)
        XCTAssertEqual(big.texts.first?.count, 246 * 255)
    }

    func testBinaryTXTBytesSurvive() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        let resolver = DoHResolver(configuration: fixtures.resolverConfiguration(), client: client)
        let answer = await resolver.lookup("hostile.test", .txt)
        guard case let .txt(strings)? = answer.records.first?.data else { return XCTFail("no TXT record") }
        XCTAssertTrue(strings[0].contains(0x00) && strings[0].contains(0xFF) && strings[0].contains(0x1B))
    }

    func testConcurrentIdenticalQuestionsAreSentOnce() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        let resolver = DoHResolver(configuration: fixtures.resolverConfiguration(), client: client)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { _ = await resolver.lookup("_spf.provider.test", .txt) } }
        }
        let statistics = await resolver.statistics
        XCTAssertEqual(statistics.questions, 200)
        XCTAssertEqual(statistics.httpRequests, 1)
        XCTAssertEqual(statistics.cacheHits + statistics.joinedInFlight, 199)
    }

    /// Past maxCacheEntries the oldest answers go, the newest stay, and a dropped one is asked again
    /// with the same answer: memory stays bounded whatever the length of the list.
    func testTheCacheKeepsItsCapByDroppingTheOldest() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        var configuration = fixtures.resolverConfiguration()
        configuration.maxCacheEntries = 10
        let resolver = DoHResolver(configuration: configuration, client: client)
        let first = await resolver.lookup("good.test", .mx)
        for index in 0..<30 { _ = await resolver.lookup("name\(index).good.test", .a) }
        var statistics = await resolver.statistics
        XCTAssertEqual(statistics.httpRequests, 31)
        XCTAssertEqual(statistics.evicted, 22, "evicted down to 9 each time the cache passed 10")
        _ = await resolver.lookup("name29.good.test", .a)
        statistics = await resolver.statistics
        XCTAssertEqual(statistics.httpRequests, 31, "the newest answer is still cached")
        let again = await resolver.lookup("good.test", .mx)
        statistics = await resolver.statistics
        XCTAssertEqual(statistics.httpRequests, 32, "the oldest was dropped and asked again")
        XCTAssertEqual(again.status, first.status)
        XCTAssertEqual(again.records, first.records)
    }

    func testUnresponsiveNameServerIsAnErrorNotAbsence() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        let resolver = DoHResolver(configuration: fixtures.resolverConfiguration(timeout: .seconds(1)), client: client)
        let answer = await resolver.lookup("slow.test", .mx)
        XCTAssertTrue(answer.isError, "\(answer.status)")
        let statistics = await resolver.statistics
        XCTAssertEqual(statistics.retries, 1, "a failed question is tried once more")
    }

    func testUntrustedResolverCertificateIsRefused() async throws {
        let fixtures = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        var configuration = fixtures.resolverConfiguration()
        configuration.caFile = fixtures.otherCAFile
        let resolver = DoHResolver(configuration: configuration, client: client)
        let answer = await resolver.lookup("good.test", .mx)
        guard case let .error(message) = answer.status else { return XCTFail("expected an error, got \(answer.status)") }
        XCTAssertTrue(message.contains("TLS"), message)
    }

    func testResolverDownIsAnError() async throws {
        _ = try Fixtures.load()
        let client = CurlClient()
        defer { client.shutdown() }
        var configuration = DoHConfiguration(url: "https://127.0.0.1:9/dns-query")
        configuration.timeout = .seconds(1)
        let answer = await DoHResolver(configuration: configuration, client: client).lookup("good.test", .mx)
        XCTAssertTrue(answer.isError)
    }
}

/// The CAs a connection trusts: a file the site names is added to the system's, never put in
/// their place, and read once a run.
final class TrustBundleTests: XCTestCase {
    func testANamedFileIsAddedToTheSystemsCAs() throws {
        let fixtures = try Fixtures.load()
        let (file, dropDirectory) = TrustBundle.sources(adding: fixtures.caFile)
        let system = "/etc/ssl/certs/ca-certificates.crt"
        guard FileManager.default.isReadableFile(atPath: system) else { throw XCTSkip("no system CA bundle here") }
        XCTAssertTrue(dropDirectory)
        let joined = try String(contentsOfFile: try XCTUnwrap(file), encoding: .utf8)
        XCTAssertTrue(joined.hasPrefix(try String(contentsOfFile: fixtures.caFile, encoding: .utf8)))
        XCTAssertTrue(joined.hasSuffix(try String(contentsOfFile: system, encoding: .utf8)), "the system's CAs still count")
        XCTAssertEqual(TrustBundle.sources(adding: fixtures.caFile).file, file, "joined once")
        XCTAssertEqual(TrustBundle.sources(adding: nil).file, nil, "curl's own bundle")
        let missing = TrustBundle.sources(adding: "/nonexistent/ca.pem")
        XCTAssertEqual(missing.file, "/nonexistent/ca.pem", "left to curl, whose error names it")
        XCTAssertFalse(missing.dropDirectory)
    }
}

/// Only https:// URLs are fetched, whatever the case of the scheme; the refusal names the URL.
final class HTTPSOnlyTests: XCTestCase {
    func testOnlyHTTPSURLsAreFetched() async throws {
        for url in ["https://a.test/", "HTTPS://a.test/", "HttpS://a.test/x?y=1"] {
            XCTAssertTrue(Transfer.isHTTPS(url), url)
        }
        for url in ["http://a.test/", "https:/a.test/", "https:", "", "ftp://a.test/", " https://a.test/", "https\u{1A}//a.test/",
                    "\u{130}ttps://a.test/", "httpsː//a.test/"] {
            XCTAssertFalse(Transfer.isHTTPS(url), url)
        }
        let client = CurlClient()
        defer { client.shutdown() }
        do {
            _ = try await client.perform(HTTPRequest(url: "http://127.0.0.1:9/"))
            XCTFail("a plain http:// URL was fetched")
        } catch let HTTPFailure.refusedURL(url, reason) {
            XCTAssertEqual(url, "http://127.0.0.1:9/")
            XCTAssertEqual(reason, "only https:// URLs are fetched")
        }
    }
}
