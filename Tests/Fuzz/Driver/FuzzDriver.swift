import Foundation
import FuzzTargets

// Built two ways. `scripts/fuzz` builds with `--sanitize=fuzzer -DFUZZING`: libFuzzer supplies
// main and calls LLVMFuzzerTestOneInput, and the target is named by $MAILAUDIT_FUZZ_TARGET.
// The ordinary build has a main that runs files through a target, to reproduce a finding
// without the fuzzer: `mailaudit-fuzz TARGET FILE...`.

#if FUZZING
private let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["MAILAUDIT_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget.named(name) else {
        FileHandle.standardError.write(Data("MAILAUDIT_FUZZ_TARGET must name a target: \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
@main
struct FuzzReplay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--list"] {
            for target in FuzzTarget.all { print("\(target.name)\t\(target.summary)") }
            return
        }
        guard let name = arguments.first, let target = FuzzTarget.named(name) else {
            print("usage: mailaudit-fuzz TARGET FILE...   (or --list)\ntargets:")
            for target in FuzzTarget.all { print("  \(target.name): \(target.summary)") }
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                exit(2)
            }
            let start = Date()
            target.run(Array(data))
            print("\(file): \(data.count) bytes, \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        }
    }
}
#endif
