import Policy

/// The HTML report's one stylesheet and one script. Both are named by hash in the page's
/// Content-Security-Policy, so nothing else can run or restyle it.
public enum HTMLReportStyle {
    /// Colour follows the reader's question: a required failure is red, what could not be
    /// checked is slate, an advised shortfall amber, a pass green; each also says so in words.
    public static let stylesheet = base + narrow + print
        + Verdict.allCases.map { ".v-\($0.rawValue){background:\(HTMLReport.verdictColours[$0]!)}" }.joined()

    private static let base = """
    body{font-family:"DejaVu Sans",Arial,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;color:#1b1b1b;line-height:1.4;background:#fff}
    h1{font-size:1.6rem;margin-bottom:.4rem}h2{border-bottom:2px solid #ccc;padding-bottom:.2rem;margin-top:2rem}h3{margin-bottom:.3rem}
    a{color:#0b4f9c}.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.4rem;border:2px solid #0b4f9c}
    .facts{display:flex;flex-wrap:wrap;gap:.2rem 1.6rem;margin:0;font-size:.9em}.facts div{display:flex;gap:.4rem}.facts dt{font-weight:bold;color:#333}.facts dd{margin:0;color:#333}
    .toc{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.9em}
    .meta,.small{color:#4a4a4a;font-size:.88em;margin:.2rem 0}.lead{font-size:1.05rem}
    .warning{background:#fff3e0;border-left:4px solid #a14a00;padding:.5rem}
    .badge{color:#fff;border-radius:3px;padding:.1rem .4rem;font-size:.8em;white-space:nowrap;display:inline-block}
    td,li,p,code,summary,dd{overflow-wrap:anywhere}
    .charts{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}figure{margin:0;max-width:100%}svg{max-width:100%;height:auto}
    svg .label,svg .count{font-size:13px;fill:#1b1b1b}svg .axis{stroke:#555;stroke-width:1}figcaption{font-size:.85em;color:#4a4a4a}
    table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5rem 0}caption{text-align:left;font-weight:bold;padding:.3rem 0}
    th,td{border-bottom:1px solid #d0d0d0;padding:.35rem;text-align:left;vertical-align:top}th{background:#f0f0f0}
    th button.sort{font:inherit;font-weight:bold;background:none;border:none;padding:0;cursor:pointer;color:#1b1b1b;text-align:left}
    th[aria-sort=ascending] button.sort::after{content:" ▲"}th[aria-sort=descending] button.sort::after{content:" ▼"}
    button:focus-visible,select:focus-visible,input:focus-visible,summary:focus-visible,a:focus-visible{outline:3px solid #0b4f9c;outline-offset:2px}
    ul.plain,ul.steps{list-style:none;padding:0;margin:0}ul.steps li{margin-bottom:.3rem}.control{color:#4a4a4a;font-size:.82em}
    details{border:1px solid #d0d0d0;border-radius:4px;margin:.5rem 0;padding:.3rem .8rem}summary{cursor:pointer;font-weight:bold;min-height:24px;padding:.15rem 0}
    details.passes,details.trend-table{border:none;padding:0}details.passes summary,details.trend-table summary{font-weight:normal;color:#2e5e30}
    p.group{font-weight:bold;margin:.8rem 0 .2rem}
    .findings{list-style:none;padding-left:0}.finding{border-left:6px solid #bbb;padding:.2rem .6rem;margin:.5rem 0}
    .finding.req-fail{border-color:#c62828;background:#fdecea}.finding.not-checked{border-color:#4f5f68;background:#eef1f3}
    .finding.advised{border-color:#b87a00;background:#fff8e6}.finding.passed{border-color:#2e7d32}
    .status{font-family:"DejaVu Sans Mono",monospace;text-transform:uppercase;font-size:.78em;font-weight:bold}
    .req-fail .status{color:#a31515}.not-checked .status{color:#37474f}.advised .status{color:#6d4800}.passed .status{color:#1e5e22}
    .ref,.time{color:#4a4a4a;font-size:.85em}.fix{background:#f1f8e9;padding:.3rem}.who{margin:.2rem 0}
    .not-recorded{background:#ffebee;border-left:6px solid #c62828;padding:.6rem;font-size:1.05rem}.backdated{color:#6d4800}
    footer{margin-top:2rem;border-top:1px solid #ccc}.exception{background:#f3e5f5;border-left:4px solid #6a1b9a;padding:.3rem .6rem}
    .soon,.fail-count{color:#a31515}.evidence{font-size:.85em}.print-note{display:none}
    .spf-tree{font-size:.85em}.spf-tree ul{margin:0;padding-left:1rem;list-style:none}.spf-tree .remark{color:#6d4800}
    """
        + (1...9).map { ".spf-tree .depth\($0){margin-left:\(Double($0) * 1.2)rem}" }.joined()
        + """
    .data{font-family:"DejaVu Sans Mono",monospace;white-space:pre-wrap;overflow-wrap:anywhere;color:#333;margin-left:1rem}
    button{font:inherit;padding:.2rem .6rem}
    """

    /// Below 760 px every table row becomes a card: each cell on its own line after its column's
    /// name, so nothing (the verdict and the until date least of all) is scrolled off.
    private static let narrow = """
    @media screen and (max-width:760px){body{padding:0 .5rem;margin:.5rem auto}
    table.reflow thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
    table.reflow,table.reflow tbody,table.reflow tr,table.reflow td,table.reflow th[scope=row]{display:block;width:auto}
    table.reflow tr{border:1px solid #d0d0d0;border-radius:4px;margin:.5rem 0;padding:.2rem .4rem}
    table.reflow td{border:none;padding:.15rem 0}table.reflow td::before{content:attr(data-label) ": ";font-weight:bold;color:#333}
    table.reflow caption{display:block}.facts{display:block}}
    """

    /// On paper (A4): the summary, the Monitoring Officer's section, the views by organisation
    /// and by control, the changes and the Members; a Member's findings only where opened on
    /// screen; the evidence only when asked for.
    private static let print = """
    @page{size:A4;margin:12mm 11mm}
    @media print{body{margin:0;max-width:none;padding:0;font-size:8.5pt;line-height:1.25}h1{font-size:14pt}h2{font-size:11.5pt;margin-top:.8rem;break-after:avoid}h3{font-size:10pt;break-after:avoid}
    .noprint,nav,.skip,.trend-table{display:none}.print-note{display:inline}a{color:inherit;text-decoration:none}
    details{border:none;padding:0;margin:.2rem 0}#details details.member:not([open]){display:none}
    #evidence{display:none}body.print-evidence #evidence{display:block}
    table{font-size:8pt}th,td{padding:.12rem .25rem}tr,li.finding{break-inside:avoid}.finding{margin:.25rem 0;padding:.1rem .4rem}
    .finding.passed{display:none}details.passes{display:none}.ref{display:none}
    .badge{-webkit-print-color-adjust:exact;print-color-adjust:exact;padding:0 .25rem}.charts{flex-wrap:nowrap}svg{max-height:36mm;width:auto}
    .screen-only{display:none}table.actions td:first-child{width:24%}table.actions td:nth-child(2){width:12%}
    table.organisations td:first-child{width:20%}table.organisations td:nth-child(3){width:30%}#members-table td:first-child{width:22%}#members-table td:nth-child(2){width:18%}td[data-label=Until]{white-space:nowrap}ul.steps li{margin-bottom:.1rem}p{margin:.3rem 0}
    .finding,.exception,.not-recorded,.fix{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
    """

    static let script = """
    (function(){
      var table=document.getElementById('members-table');var filter=document.getElementById('verdict-filter');var shown=document.getElementById('shown');
      function apply(){var v=filter.value;var n=0;Array.prototype.forEach.call(table.tBodies[0].rows,function(r){var show=!v||r.getAttribute('data-verdict')===v;r.hidden=!show;if(show)n++;});shown.textContent=n+' shown';}
      filter.addEventListener('change',apply);apply();
      var heads=table.tHead.rows[0].cells;
      Array.prototype.forEach.call(heads,function(th,i){var b=th.querySelector('button');if(!b)return;b.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';Array.prototype.forEach.call(heads,function(c){c.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');var rows=Array.prototype.slice.call(table.tBodies[0].rows);
        function key(r){var c=r.cells[i];return c.getAttribute('data-sort')||c.textContent;}
        rows.sort(function(a,b){return (asc?1:-1)*key(a).localeCompare(key(b));});
        rows.forEach(function(r){table.tBodies[0].appendChild(r);});});});
      function members(open){Array.prototype.forEach.call(document.querySelectorAll('#details details.member'),function(d){d.open=open;});}
      document.getElementById('open-all').addEventListener('click',function(){members(true);});
      document.getElementById('close-all').addEventListener('click',function(){members(false);});
      var pe=document.getElementById('print-evidence');
      pe.addEventListener('change',function(){document.body.classList.toggle('print-evidence',pe.checked);});
      window.addEventListener('beforeprint',function(){if(pe.checked){Array.prototype.forEach.call(document.querySelectorAll('#evidence details'),function(d){d.open=true;});}});
      function reveal(){var id=location.hash.slice(1);var t=id&&document.getElementById(id);if(t&&t.tagName==='DETAILS'){t.open=true;}}
      window.addEventListener('hashchange',reveal);reveal();
    })();
    """
}
