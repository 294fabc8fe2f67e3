"""Background work (ui.jobs) starts only once no page script runs: the page being drawn goes first."""

from __future__ import annotations

import threading


def _page_script(release: threading.Event) -> threading.Thread:
    """A thread named as Streamlit names the thread of a page's script, running until ``release`` is set."""
    from ui import jobs

    thread = threading.Thread(target=release.wait, name=jobs.SCRIPT_THREAD, daemon=True)
    thread.start()
    return thread


def test_pages_running_sees_a_page_script_and_only_while_it_runs():
    from ui import jobs

    release = threading.Event()
    script = _page_script(release)
    assert jobs.pages_running()
    release.set()
    script.join()
    assert not jobs.pages_running()


def test_wait_for_quiet_returns_only_after_the_page_script_has_ended():
    from ui import jobs

    release = threading.Event()
    script = _page_script(release)
    returned = threading.Event()
    waiter = threading.Thread(target=lambda: (jobs.wait_for_quiet(quiet=0.05), returned.set()), daemon=True)
    waiter.start()
    assert not returned.wait(0.3)  # the page's script still runs: the background waits
    release.set()
    script.join()
    assert returned.wait(30)  # and starts once it has ended


def test_a_queued_view_starts_after_the_page_script_that_queued_it():
    from ui import jobs

    assert jobs._background().wait_idle(timeout=120)  # work of other tests first
    release = threading.Event()
    script = _page_script(release)
    seen: list[bool] = []
    started = threading.Event()

    def view() -> None:
        seen.append(jobs.pages_running())
        started.set()

    jobs._background().submit(jobs.NEXT, view)
    assert not started.wait(0.3)  # queued while the page's script runs: not started
    release.set()
    script.join()
    assert started.wait(30)
    assert seen == [False]  # it ran with no page script running


def test_a_page_script_runs_in_the_thread_the_background_waits_for():
    from streamlit.testing.v1 import AppTest

    from ui import jobs

    # the name is Streamlit's: were it renamed, the background would stop yielding to pages without an error
    at = AppTest.from_string("import threading, streamlit as st\n"
                             "st.write(threading.current_thread().name)\n").run()
    assert at.markdown[0].value == jobs.SCRIPT_THREAD
