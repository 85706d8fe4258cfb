import Foundation

/// Times as directories write them.
public enum DirectoryTime {
    /// What a FILETIME attribute says: a time, "never" (0 or the largest value), or AD's
    /// "must change at next logon" (pwdLastSet = 0).
    public enum FileTime: Equatable, Sendable {
        case never
        case at(Date)
    }

    /// 100-nanosecond intervals since 1601-01-01 UTC (AD's pwdLastSet, lastLogonTimestamp,
    /// accountExpires). 0 and 0x7FFFFFFFFFFFFFFF both mean "never".
    public static func fileTime(_ text: String) -> FileTime? {
        guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        if value == 0 || value == Int64.max { return .never }
        guard value > 0 else { return nil }
        let secondsFrom1601 = Double(value) / 10_000_000
        return .at(Date(timeIntervalSince1970: secondsFrom1601 - 11_644_473_600))
    }

    /// GeneralizedTime (RFC 4517 3.3.13): YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM]).
    /// OpenLDAP's ppolicy writes "000001010000Z" for "locked until an administrator unlocks":
    /// that is returned as `Date.distantPast`, which callers treat as a marker, not a time.
    public static func generalizedTime(_ text: String) -> Date? {
        let characters = Array(text.trimmingCharacters(in: .whitespaces))
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= characters.count else { return nil }
            let slice = characters[index..<index + count]
            guard slice.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(String(slice)) else { return nil }
            index += count
            return value
        }
        guard let year = digits(4), let month = digits(2), let day = digits(2), let hour = digits(2) else { return nil }
        if text.hasPrefix("00000101") { return .distantPast }
        var minute = 0, second = 0
        var fraction = 0.0
        if let value = digits(2) {
            minute = value
            if let value = digits(2) { second = value }
        }
        if index < characters.count, characters[index] == "." || characters[index] == "," {
            index += 1
            let start = index
            while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            guard index > start else { return nil }
            fraction = Double("0." + String(characters[start..<index])) ?? 0
        }
        guard index < characters.count else { return nil }
        var offsetSeconds = 0
        switch characters[index] {
        case "Z":
            index += 1
        case "+", "-":
            let sign = characters[index] == "+" ? 1 : -1
            index += 1
            guard let hours = digits(2) else { return nil }
            let minutes = digits(2) ?? 0
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        default:
            return nil
        }
        guard index == characters.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              second < 61 else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(secondsFromGMT: 0)
        components.year = year; components.month = month; components.day = day
        components.hour = hour; components.minute = minute; components.second = second
        guard let date = components.date else { return nil }
        return date.addingTimeInterval(fraction - Double(offsetSeconds))
    }
}
