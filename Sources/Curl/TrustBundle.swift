import CCurl
import Foundation
import Synchronization

/// The CAs a connection trusts: the system's, and those of a file the site names (a private
/// resolver's CA, the test CA), as curl on Debian has always trusted them (the file given, and
/// the system's certificate directory beside it).
///
/// curl keeps the certificate store it read for every later connection of a multi handle, but
/// only when the CAs come from one file alone: with a directory too it reads everything again
/// for each connection, which cost more than the TLS handshake itself. So the system's
/// directory is replaced by the bundle it is built from (`/etc/ssl/certs/ca-certificates.crt`,
/// the same certificates), and a file the site names is joined to that bundle once a run, in a
/// private temporary file removed at exit.
enum TrustBundle {
    /// curl's own default bundle file, as built, when it can be read; looked at once a run, not
    /// once a transfer.
    private static let systemBundle: String? = mailaudit_curl_version_info()?.pointee.cainfo
        .map { String(cString: $0) }
        .flatMap { FileManager.default.isReadableFile(atPath: $0) ? $0 : nil }

    /// Files already joined: the file named → the joined file.
    private static let joined = Mutex<[String: String]>([:])

    /// What to give curl: the bundle file to set (nil: curl's default), and whether the default
    /// directory can be left out because the bundle holds its certificates.
    static func sources(adding caFile: String?) -> (file: String?, dropDirectory: Bool) {
        guard let bundle = systemBundle else {
            return (caFile, false)   // no system bundle to stand for the directory: as curl does it
        }
        guard let caFile else { return (nil, true) }
        // Under the lock throughout: two transfers starting at once join the file once.
        return joined.withLock { made in
            if let file = made[caFile] { return (file, true) }
            guard let named = FileManager.default.contents(atPath: caFile), let system = FileManager.default.contents(atPath: bundle),
                  let file = write(named + Data("\n".utf8) + system) else {
                return (caFile, false)   // unreadable: curl says so, in its own words, as before
            }
            made[caFile] = file
            return (file, true)
        }
    }

    private static let removalAtExit: Void = { atexit(removeJoinedBundles) }()

    private static func write(_ pem: Data) -> String? {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailaudit-trust-\(getpid())-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            let file = directory.appendingPathComponent("ca-bundle.pem")
            try pem.write(to: file, options: .withoutOverwriting)
            _ = removalAtExit
            return file.path
        } catch {
            return nil
        }
    }
}

/// At exit: the joined bundles and their folders go.
private func removeJoinedBundles() {
    for file in TrustBundle.joinedFiles {
        try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent)
    }
}

extension TrustBundle {
    static var joinedFiles: [String] { joined.withLock { Array($0.values) } }
}

extension EasyHandle {
    /// Sets the CAs this handle's connections trust (see `TrustBundle`).
    func trust(adding caFile: String?) -> CURLcode {
        let sources = TrustBundle.sources(adding: caFile)
        if let file = sources.file {
            let code = set(CURLOPT_CAINFO, file)
            guard code == CURLE_OK else { return code }
        }
        return sources.dropDirectory ? mailaudit_curl_setopt_ptr(pointer, CURLOPT_CAPATH, nil) : CURLE_OK
    }
}
