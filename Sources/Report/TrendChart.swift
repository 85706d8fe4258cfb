import Foundation
import Policy

/// Verdict counts over the recorded runs as an inline SVG (one stacked column a run, oldest on
/// the left), with the same figures in a table for a screen reader and for print.
public enum TrendChart {
    public static func render(_ points: [TrendPoint]) -> String {
        guard !points.isEmpty else {
            return "<figure><p>No run is recorded yet, so there is no trend.</p></figure>"
        }
        let order: [Verdict] = [.nonCompliant, .unknown, .assessmentDue, .exception, .compliant]
        let columnWidth = 28, gap = 10, plotHeight = 150, left = 30, top = 8
        let largest = max(1, points.map { point in order.reduce(0) { $0 + (point.counts[$1.rawValue] ?? 0) } }.max() ?? 1)
        let width = left + points.count * (columnWidth + gap) + gap
        var shapes: [String] = [
            "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width)\" y2=\"\(top + plotHeight)\" class=\"axis\"></line>",
            "<text x=\"0\" y=\"\(top + 10)\" class=\"label\">\(largest)</text>",
            "<text x=\"0\" y=\"\(top + plotHeight)\" class=\"label\">0</text>",
        ]
        for (index, point) in points.enumerated() {
            let x = left + gap + index * (columnWidth + gap)
            var y = top + plotHeight
            for verdict in order.reversed() {
                let count = point.counts[verdict.rawValue] ?? 0
                guard count > 0 else { continue }
                let height = Int((Double(count) / Double(largest) * Double(plotHeight)).rounded())
                y -= height
                shapes.append("<rect x=\"\(x)\" y=\(quoted(y)) width=\"\(columnWidth)\" height=\"\(height)\" fill=\"\(HTMLReport.verdictColours[verdict]!)\"></rect>")
            }
            let label = point.runId.map { "#\($0)" } ?? "now"
            shapes.append("<text x=\"\(x)\" y=\"\(top + plotHeight + 16)\" class=\"label\">\(label)</text>")
        }
        let rows = points.map { point -> String in
            let run = point.runId.map { "#\($0)" } ?? "this run (not recorded)"
            let cells = order.map { "<td data-label=\"\(HTMLReport.verdictLabels[$0]!)\">\(point.counts[$0.rawValue] ?? 0)</td>" }.joined()
            return "<tr><th scope=\"row\">\(run), \(HTMLReport.day(point.at))</th>\(cells)</tr>"
        }
        let headings = order.map { "<th scope=\"col\">\(HTMLReport.verdictLabels[$0]!)</th>" }.joined()
        let latest = points.last!
        let description = "Verdicts over \(points.count) recorded run\(points.count == 1 ? "" : "s"); latest: "
            + order.map { "\(HTMLReport.verdictLabels[$0]!) \(latest.counts[$0.rawValue] ?? 0)" }.joined(separator: ", ")
        return """
        <figure><svg role="img" aria-label="\(Escape.html(description))" viewBox="0 0 \(width) \(top + plotHeight + 24)" width="\(width)" height="\(top + plotHeight + 24)">
        \(shapes.joined(separator: "\n"))
        </svg><figcaption>Over the recorded runs, oldest on the left (colours as in the chart beside it).</figcaption>
        <details class="trend-table"><summary>The figures</summary>
        <table class="reflow"><caption>Members by verdict in each recorded run</caption><thead><tr><th scope="col">Run</th>\(headings)</tr></thead><tbody>\(rows.joined())</tbody></table>
        </details></figure>
        """
    }

    private static func quoted(_ value: Int) -> String { "\"\(value)\"" }
}
