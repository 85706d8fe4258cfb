#!/usr/bin/env python3
"""Uses the web console (`mailaudit serve`) as its users do, in headless Chromium (Debian's
chromium and chromium-driver, driven by selenium), and prints what happened as one JSON object;
the Swift test that runs it holds the expectations.

    console_check.py BASE_URL SETUP.json AXE.min.js ARTEFACT_DIR

SETUP.json: {"register": path, "users": {name: {"password": p, "secret": base32}},
             "grantMember": id, "hostileMember": id, "until": "YYYY-MM-DD"}
"""
import base64
import hashlib
import hmac
import json
import os
import sqlite3
import struct
import sys
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, setup_file, axe_file, artefacts = sys.argv[1:5]
setup = json.load(open(setup_file))
os.makedirs(artefacts, exist_ok=True)
os.environ["SE_OFFLINE"] = "true"
axe_source = open(axe_file, encoding="utf-8").read()
out = {"axe": {}, "steps": []}


def totp(secret, step=None):
    """RFC 6238: HMAC-SHA1 over the 30-second step, 6 digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(time.time() // 30) if step is None else step
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1280, 1000)
    return driver


def axe(driver, name):
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})"
        ".then(function(r){done({violations: r.violations.map(function(v){return {id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0,3).map(function(n){return n.target.join(' ');})};}), passes: r.passes.length});})"
        ".catch(function(e){done({error: String(e)});});")
    out["axe"][name] = result
    full = driver.execute_script("return document.documentElement.scrollHeight;")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(full + 100, 12000))
    driver.save_screenshot(os.path.join(artefacts, "console-%s.png" % name))
    driver.set_window_size(width, 1000)


def sign_in(driver, name, password=None, code=None):
    user = setup["users"][name]
    driver.get(base + "/sign-in")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password if password is not None else user["password"])
    driver.find_element(By.ID, "code").send_keys(code if code is not None else totp(user["secret"]))
    marker = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button").click()
    WebDriverWait(driver, 30).until(lambda d: _stale(marker))
    return driver.current_url


def _stale(element):
    """True once the page the element was on has been replaced."""
    try:
        element.tag_name
        return False
    except Exception:
        return True


def problem(driver):
    found = driver.find_elements(By.CSS_SELECTOR, "p.warning")
    return found[0].text if found else ""


def post_from_page(driver, path, fields):
    """A POST carrying the browser's own session cookie but not made by the console's form:
    what a forged request from a signed-in browser sends (the token only if the forger had it).
    The console's CSP forbids script requests (connect-src), so it is sent from here."""
    cookie = "; ".join("%s=%s" % (c["name"], c["value"]) for c in driver.get_cookies())
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(base + path, data=body, method="POST",
                                     headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request) as response:
            return {"status": response.status, "text": response.read(300).decode("utf-8", "replace")}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "text": error.read(300).decode("utf-8", "replace")}


def register_count(sql, args=()):
    db = sqlite3.connect(setup["register"], timeout=10)
    try:
        return db.execute(sql, args).fetchone()[0]
    finally:
        db.close()


grant_member = urllib.parse.quote(setup["grantMember"], safe="")
hostile_member = urllib.parse.quote(setup["hostileMember"], safe="")
driver = browser()
try:
    # Not signed in: every page sends to sign-in; a POST is refused outright.
    driver.get(base + "/")
    out["unsignedRedirect"] = driver.current_url
    request = urllib.request.Request(base + "/members/%s/exceptions" % grant_member, data=b"reason=x", method="POST")
    try:
        urllib.request.urlopen(request)
        out["unsignedPost"] = 200
    except urllib.error.HTTPError as error:
        out["unsignedPost"] = error.code
    out["signInFields"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('form input:not([type=hidden])')).map(function(i){return [i.name, i.getAttribute('autocomplete')];});")
    with urllib.request.urlopen(base + "/sign-in") as response:
        out["headers"] = {k.lower(): v for k, v in response.getheaders()}
    axe(driver, "sign-in")

    # The Monitoring Officer: password and one-time code.
    mo_code = totp(setup["users"]["mo.jane"]["secret"])
    out["moSignedIn"] = sign_in(driver, "mo.jane", code=mo_code)
    out["cookie"] = [c for c in driver.get_cookies() if c["name"] == "mailaudit_session"]
    axe(driver, "dashboard")
    out["dashboardText"] = driver.find_element(By.TAG_NAME, "main").text[:3000]

    # The hostile display name is text: no script ran, no element was made.
    driver.get(base + "/members/%s" % hostile_member)
    out["hostile"] = driver.execute_script(
        "return {title: document.title, h1: document.querySelector('h1').textContent, injected: document.querySelectorAll('img[src=x], main script').length,"
        " flag: window.__pwned === true};")
    # A decision on a Member's page.
    driver.get(base + "/members/%s" % grant_member)
    axe(driver, "member")
    out["grantControls"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('input[name=\"controls[]\"]')).map(function(i){return i.value;});")
    driver.find_element(By.CSS_SELECTOR, "input[name='controls[]'][value='%s']" % setup["grantControl"]).click()
    driver.find_element(By.ID, "reason").send_keys("The council moves to p=reject in January")
    driver.execute_script("document.getElementById('until').value = arguments[0];", setup["until"])
    driver.find_element(By.CSS_SELECTOR, "form[action$='/exceptions'] button").click()
    # The answer is a new page: wait for it rather than read the old one.
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice, p.warning"))
    notices = driver.find_elements(By.CSS_SELECTOR, "p.notice")
    out["grantNotice"] = notices[0].text if notices else problem(driver)
    # A POST without the session's token, from the MO's own signed-in browser: 403, nothing recorded.
    before = register_count("SELECT COUNT(*) FROM exceptionDecision")
    out["moWithoutToken"] = post_from_page(driver, "/members/%s/exceptions" % grant_member,
                                           {"controls[]": setup["grantControl"], "reason": "forged", "until": setup["until"]})
    out["moWithoutTokenRecorded"] = register_count("SELECT COUNT(*) FROM exceptionDecision") - before

    for page in ("organisations", "runs", "log"):
        driver.get(base + "/" + page)
        axe(driver, page)
    driver.get(base + "/runs")
    first_run = driver.find_element(By.CSS_SELECTOR, "table tbody tr td a").get_attribute("href")
    driver.get(first_run)
    out["storedReport"] = driver.execute_script("return [document.title, document.getElementById('shown') ? document.getElementById('shown').textContent : null];")
    axe(driver, "stored-report")
    driver.get(base + "/runs")
    marker = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "form[action='/runs/diff'] button").click()
    WebDriverWait(driver, 15).until(lambda d: _stale(marker))
    out["diff"] = driver.find_element(By.TAG_NAME, "h1").text
    axe(driver, "diff")
    # Narrow screen: the dashboard does not scroll sideways.
    driver.set_window_size(400, 900)
    driver.get(base + "/")
    out["narrow"] = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    driver.set_window_size(1280, 1000)
    # Sign out, then the same code again: a code is used once.
    driver.get(base + "/")
    marker = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    WebDriverWait(driver, 15).until(lambda d: _stale(marker))
    out["afterSignOut"] = driver.current_url
    sign_in(driver, "mo.jane", code=mo_code)
    out["codeReused"] = problem(driver)
    driver.quit()

    # A viewer: no decision form; a forged POST with the viewer's own token is refused.
    driver = browser()
    out["viewerSignedIn"] = sign_in(driver, "viewer.vic")
    driver.get(base + "/members/%s" % grant_member)
    out["viewerForms"] = len(driver.find_elements(By.CSS_SELECTOR, "form[action$='/exceptions'], form[action$='/revoke']"))
    token = driver.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]").get_attribute("value")
    before = register_count("SELECT COUNT(*) FROM exceptionDecision")
    out["viewerForged"] = post_from_page(driver, "/members/%s/exceptions" % grant_member,
                                         {"csrf": token, "controls[]": setup["grantControl"], "reason": "forged", "until": setup["until"]})
    out["viewerForgedRecorded"] = register_count("SELECT COUNT(*) FROM exceptionDecision") - before
    driver.get(base + "/log")
    out["viewerLogStatus"] = driver.find_element(By.TAG_NAME, "h1").text
    # An idle session ends: 31 minutes without a request, then the next page is the sign-in.
    db = sqlite3.connect(setup["register"], timeout=10)
    db.execute("UPDATE consoleSession SET lastSeenAt = datetime('now', '-31 minutes') WHERE username = 'viewer.vic'")
    db.commit()
    db.close()
    driver.get(base + "/")
    out["expiredRedirect"] = driver.current_url
    driver.quit()

    # The ICT provider's 10-minute assessment: started, half answered, the browser closed;
    # signed in again (after the code's 30 seconds), resumed, finished.
    def submit(driver, button):
        marker = driver.find_element(By.TAG_NAME, "html")
        button.click()
        WebDriverWait(driver, 60).until(lambda d: _stale(marker))

    def answer_next(driver):
        """Answers the first unanswered question yes; False when none is left."""
        for block in driver.find_elements(By.CSS_SELECTOR, "div.finding[id^=q-]"):
            if "Not answered yet." not in block.text:
                continue
            block.find_element(By.CSS_SELECTOR, "input[type=radio][value=yes]").click()
            if block.find_elements(By.ID, "ce-number"):
                driver.find_element(By.ID, "ce-number").send_keys("IASME-CE-4321")
                driver.execute_script("document.getElementById('ce-expires').value = arguments[0];", setup["until"])
            block.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("seen with the IT contact")
            submit(driver, block.find_element(By.CSS_SELECTOR, "button[type=submit]"))
            return True
        return False

    ict = setup["assessMember"]
    driver = browser()
    sign_in(driver, "ict.ian")
    driver.get(base + "/assessments")
    axe(driver, "assessments")
    start = driver.find_element(By.XPATH, "//input[@name='member'][@value='%s']/../button" % ict)
    submit(driver, start)
    out["assessmentTitle"] = driver.find_element(By.TAG_NAME, "h1").text
    axe(driver, "assessment")
    driver.find_element(By.ID, "it-contact").send_keys("R Patel, IT manager")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/contact'] button"))
    answered = 0
    while answered < 3 and answer_next(driver):
        answered += 1
    out["answeredBeforeClosing"] = answered
    driver.quit()
    time.sleep(31 - time.time() % 30)          # the next one-time code
    driver = browser()
    sign_in(driver, "ict.ian")
    driver.get(base + "/assessments")
    out["draftListed"] = driver.find_element(By.TAG_NAME, "main").text
    submit(driver, driver.find_element(By.CSS_SELECTOR, "main ul li a"))
    out["savedAfterResume"] = driver.find_element(By.TAG_NAME, "main").text.count("Saved: yes")
    while answer_next(driver):
        answered += 1
    out["answeredInAll"] = answered
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/finish'] button"))
    out["assessmentResult"] = driver.find_element(By.TAG_NAME, "main").text
    driver.quit()

    # Two Monitoring Officers decide at the same moment in two browsers: both are recorded.
    import threading
    pair = [(browser(), "mo.jane", setup["concurrent"][0]), (browser(), "mo.max", setup["concurrent"][1])]
    for driver_, name, (member, control) in pair:
        sign_in(driver_, name)
        driver_.get(base + "/members/%s" % urllib.parse.quote(member, safe=""))
        driver_.find_element(By.CSS_SELECTOR, "input[name='controls[]'][value='%s']" % control).click()
        driver_.find_element(By.ID, "reason").send_keys("Decided at the same time as another")
        driver_.execute_script("document.getElementById('until').value = arguments[0];", setup["until"])
    before = register_count("SELECT COUNT(*) FROM exceptionDecision")
    threads = [threading.Thread(target=lambda d=d: submit(d, d.find_element(By.CSS_SELECTOR, "form[action$='/exceptions'] button")))
               for d, _, _ in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["concurrentNotices"] = [(d.find_elements(By.CSS_SELECTOR, "p.notice") or d.find_elements(By.CSS_SELECTOR, "p.warning"))[0].text for d, _, _ in pair]
    out["concurrentRecorded"] = register_count("SELECT COUNT(*) FROM exceptionDecision") - before
    # The Monitoring Officer revokes the decision just made, with a reason.
    jane = pair[0][0]
    revoke = jane.find_elements(By.CSS_SELECTOR, "form[action$='/revoke']")
    if revoke:
        revoke[0].find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("Decided twice by mistake")
        submit(jane, revoke[0].find_element(By.CSS_SELECTOR, "button"))
        out["revokeNotice"] = (jane.find_elements(By.CSS_SELECTOR, "p.notice") or jane.find_elements(By.CSS_SELECTOR, "p.warning"))[0].text
    out["revocations"] = register_count("SELECT COUNT(*) FROM exceptionDecision WHERE kind = 'revoke'")
    for d, _, _ in pair:
        d.quit()

    # Five wrong passwords lock the account; then even the right ones are refused.
    driver = browser()
    messages = []
    for attempt in range(5):
        sign_in(driver, "locked.lee", password="wrong password %d" % attempt, code="000000")
        messages.append(problem(driver))
    sign_in(driver, "locked.lee")
    messages.append(problem(driver))
    out["lockout"] = messages
finally:
    driver.quit()

print(json.dumps(out))
