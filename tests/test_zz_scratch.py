from test_signin_browser import servers, idp, template, visitor, goto, sign_in, USERS, settled, marking  # noqa

def test_scratch(servers, visitor, idp):
    site = servers("signin")
    page = visitor()
    sign_in(page, site, idp, USERS["analyst"])
    for i in range(25):
        st = page.evaluate("() => { const a = document.querySelector('[data-testid=stApp]'); return a && a.getAttribute('data-test-script-state'); }")
        sb = page.locator("[data-testid='stSidebarUserContent']")
        n = len(sb.inner_text()) if sb.count() else -1
        r = page.get_by_text("RESTRICTED", exact=True).count()
        so = page.get_by_role("button", name="Sign out").count()
        print(i, st, n, r, so, page.locator("[data-testid='stStatusWidgetRunningIcon']").count())
        page.wait_for_timeout(150)
