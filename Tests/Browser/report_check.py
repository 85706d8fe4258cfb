#!/usr/bin/env python3
"""Opens an HTML report in headless Chromium (Debian's chromium and chromium-driver, driven by
selenium) and measures what a reader meets: accessibility by axe-core, reflow at 400 px, the
order of a Member's findings, keyboard sorting and filtering, and the A4 print budget.

    report_check.py REPORT.html AXE.min.js ARTEFACT_DIR MEMBER_NAME

Prints one JSON object of measurements; the Swift test that runs it holds the thresholds.
"""
import base64
import json
import os
import re
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.print_page_options import PrintOptions

report, axe_file, artefacts, member_name = sys.argv[1:5]
os.makedirs(artefacts, exist_ok=True)
os.environ["SE_OFFLINE"] = "true"          # never let selenium look for a driver of its own

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
axe_source = open(axe_file, encoding="utf-8").read()
url = "file://" + os.path.abspath(report)
out = {}


def axe():
    """Serious and critical WCAG 2.2 A/AA violations on the page as it is now."""
    # The report's CSP allows only its own script: axe is injected through the driver, which
    # the page's CSP does not govern.
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})"
        ".then(function(r){done({violations: r.violations.map(function(v){return {id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0,3).map(function(n){return n.target.join(' ');})};}), passes: r.passes.length});})"
        ".catch(function(e){done({error: String(e)});});")
    return result


def open_all():
    driver.execute_script("document.querySelectorAll('details').forEach(function(d){d.open=true;});")


try:
    # Wide screen.
    driver.set_window_size(1400, 1000)
    driver.get(url)
    out["title"] = driver.title
    out["scriptRan"] = driver.find_element(By.ID, "shown").text
    out["headings"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('h1,h2,h3,h4')).map(function(h){return h.tagName;});")
    full = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(1400, min(full + 200, 16000))
    driver.save_screenshot(os.path.join(artefacts, "report-1400.png"))
    axe_closed = axe()
    open_all()
    axe_open = axe()
    out["axe"] = {"closed": axe_closed, "open": axe_open}

    # The findings of one Member, in the order shown.
    driver.get(url)
    member = driver.execute_script(
        "var name = arguments[0]; var d = Array.from(document.querySelectorAll('#details details.member'))"
        ".find(function(x){return x.querySelector('summary').textContent.indexOf(name) >= 0;});"
        "if (!d) return null; d.open = true;"
        "return Array.from(d.querySelectorAll('li.finding')).map(function(li){"
        " return {kind: li.className.replace('finding','').trim(), status: li.querySelector('.status').textContent,"
        "  control: li.querySelector('code.control').textContent,"
        "  colour: getComputedStyle(li).borderLeftColor, visible: li.getClientRects().length > 0};});", member_name)
    out["memberFindings"] = member

    # Keyboard: Tab to the Verdict sort button, Enter; the filter by keyboard.
    button = driver.execute_script(
        "return Array.from(document.querySelectorAll('#members-table th button')).find(function(b){return b.textContent==='Verdict';});")
    button.send_keys(Keys.ENTER)
    out["sortedBy"] = driver.execute_script(
        "var th=document.querySelector('#members-table th[aria-sort]');return th?[th.textContent,th.getAttribute('aria-sort')]:null;")
    out["verdictOrderAfterSort"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#members-table tbody tr')).map(function(r){return r.getAttribute('data-verdict');});")
    select = driver.find_element(By.ID, "verdict-filter")
    select.send_keys("Exception")
    out["filteredShown"] = driver.find_element(By.ID, "shown").text

    # The views.
    out["organisations"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#organisations tbody tr')).map(function(r){"
        "return Array.from(r.cells).map(function(c){return c.innerText.trim();});});")
    out["controls"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#controls tbody tr')).map(function(r){"
        "return Array.from(r.cells).map(function(c){return c.innerText.trim();});});")
    out["trendColumns"] = driver.execute_script("return document.querySelectorAll('#summary svg')[1].querySelectorAll('rect').length;")

    # A narrow screen: no horizontal scroll, Verdict and Until on screen for every row.
    driver.set_window_size(400, 900)
    driver.get(url)
    open_all()
    out["narrow"] = driver.execute_script(
        "var w = document.documentElement.clientWidth;"
        "var wide = Array.from(document.querySelectorAll('body *')).filter(function(e){var r=e.getBoundingClientRect();"
        " return r.width > 0 && r.right > w + 1 && !e.closest('thead');}).slice(0,5).map(function(e){return e.tagName + '.' + e.className + '#' + e.id;});"
        "var cells = Array.from(document.querySelectorAll('#members-table td[data-label=Verdict], #members-table td[data-label=Until]'));"
        "var hidden = cells.filter(function(c){var r=c.getBoundingClientRect(); return r.width===0 || r.right > w + 1 || r.left < 0;}).length;"
        "return {viewport: w, scrollWidth: document.documentElement.scrollWidth, overflowing: wide, verdictUntilCells: cells.length,"
        " verdictUntilHidden: hidden};")
    driver.get(url)
    full = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(400, min(full + 200, 30000))
    driver.save_screenshot(os.path.join(artefacts, "report-400.png"))
    out["axeNarrow"] = axe()

    # Print on A4: as opened (nothing opened), then one Member opened, then with the evidence.
    def pdf(name):
        options = PrintOptions()
        options.page_width = 21.0
        options.page_height = 29.7
        data = base64.b64decode(driver.print_page(options))
        open(os.path.join(artefacts, name), "wb").write(data)
        return len(re.findall(rb"/Type\s*/Page[^s]", data))
    driver.set_window_size(1400, 1000)
    driver.get(url)
    out["printPages"] = pdf("report-a4.pdf")
    driver.execute_script(
        "var name = arguments[0]; Array.from(document.querySelectorAll('#details details.member'))"
        ".forEach(function(d){if (d.querySelector('summary').textContent.indexOf(name) >= 0) d.open = true;});", member_name)
    out["printPagesOneOpened"] = pdf("report-a4-one-member.pdf")
    driver.find_element(By.ID, "print-evidence").click()
    out["printPagesWithEvidence"] = pdf("report-a4-evidence.pdf")
finally:
    driver.quit()

print(json.dumps(out))
