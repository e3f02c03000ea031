"""Following a background job from the page that started it to its file (tests run jobs inline)."""
from __future__ import annotations

from bs4 import BeautifulSoup


def job_page(browser, response):
    """The job's page a 303 from a form leads to."""
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert location.startswith("/jobs/"), location
    return browser.get(location)


def download_from_job(browser, response):
    """The file of the job a form started: its page, then its download button."""
    page = job_page(browser, response)
    assert page.status_code == 200
    form = BeautifulSoup(page.get_data(as_text=True), "html.parser").select_one("[data-testid=job-download]")
    assert form is not None, "the job has no file to download"
    return browser.post(form["action"])
