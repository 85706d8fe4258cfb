/// A failure while a command runs (an unreadable file, a resolver that answers nothing): the
/// tool could not do its job. Printed as one line, exit code 2.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
