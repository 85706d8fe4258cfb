// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mailaudit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mailaudit", targets: ["mailaudit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
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

        .target(name: "Curl", dependencies: ["CCurl"]),
        .target(name: "DoH", dependencies: ["Curl"]),
        .target(name: "MailDomain", dependencies: [
            "DoH", "Curl", "CPSL", "CIDN2",
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .target(name: "ConfigFile", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Directory", dependencies: ["CLDAP", "ConfigFile"]),
        .target(name: "Policy", dependencies: [
            "ConfigFile", "Directory", "MailDomain",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Register", dependencies: [
            "Policy",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "Report", dependencies: [
            "MailDomain", "Directory", "Policy",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "mailaudit", dependencies: [
            "MailDomain", "DoH", "Curl", "Report", "Directory", "Policy", "ConfigFile", "Register",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

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
            "MailDomain", "DoH", "Curl", "Report", "Directory", "Policy", "Register",
            .product(name: "Yams", package: "Yams"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
