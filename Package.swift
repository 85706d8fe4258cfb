// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mailaudit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mailaudit", targets: ["mailaudit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    ],
    targets: [
        // System libraries from Debian: libcurl4-openssl-dev, libpsl-dev, libidn2-dev.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CPSL", pkgConfig: "libpsl",
                       providers: [.apt(["libpsl-dev"])]),
        .systemLibrary(name: "CIDN2", pkgConfig: "libidn2",
                       providers: [.apt(["libidn2-dev"])]),
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap",
                       providers: [.apt(["libldap-dev"])]),
        // glibc's malloc.h (malloc_trim), part of libc6-dev.
        .systemLibrary(name: "CMalloc"),
        // A server certificate's names and dates from curl's OpenSSL session (libssl-dev).
        .target(name: "CTLSPeer", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        .target(name: "Curl", dependencies: ["CCurl", "CTLSPeer"]),
        .target(name: "DoH", dependencies: ["Curl"]),
        .target(name: "MailDomain", dependencies: [
            "DoH", "Curl", "CPSL", "CIDN2",
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .target(name: "ConfigFile", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Directory", dependencies: ["CLDAP", "ConfigFile"]),
        .target(name: "Policy", dependencies: [
            "ConfigFile", "Directory", "MailDomain", "CMalloc",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Register", dependencies: [
            "Policy",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            // Stored run results are gzip-compressed (zlib, Debian's zlib1g).
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "Report", dependencies: [
            "MailDomain", "Directory", "Policy",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // What every front end shares: site.yaml, and the site's policy and register opened from it.
        .target(name: "Site", dependencies: ["ConfigFile", "Directory", "Policy", "Register", "Report", "MailDomain", "DoH", "Curl"]),
        // The Monitoring Officer's web console, over the same register, engine and report sections.
        .target(name: "Console", dependencies: [
            "Site", "Register", "Report", "Policy", "Directory",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "mailaudit", dependencies: [
            "MailDomain", "DoH", "Curl", "Report", "Directory", "Policy", "ConfigFile", "Register", "Site", "Console", "CMalloc",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // The parsers under coverage-guided fuzzing (`scripts/fuzz`), and a driver that is
        // libFuzzer's when built with -DFUZZING and otherwise replays files through a target.
        .target(name: "FuzzTargets", dependencies: ["ConfigFile", "Directory", "DoH", "MailDomain", "Policy", "Site"],
                path: "Tests/Fuzz/Targets"),
        .executableTarget(name: "mailaudit-fuzz", dependencies: ["FuzzTargets"], path: "Tests/Fuzz/Driver"),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzTargets"], path: "Tests/Fuzz/CorpusTests"),

        .testTarget(name: "DoHTests", dependencies: ["DoH"]),
        .testTarget(name: "MailDomainTests", dependencies: ["MailDomain", "DoH", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "MailDomain"]),
        .testTarget(name: "DirectoryTests", dependencies: ["Directory", "ConfigFile", "Policy"]),
        .testTarget(name: "PolicyTests", dependencies: [
            "Policy", "MailDomain", "Directory", "Register", "Report",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "MailDomain", "DoH", "Curl", "Report", "Directory", "Policy", "Register", "Console",
            .product(name: "Yams", package: "Yams"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
