"""In the browser: the UdP reads a participation chart and its data table, which agree."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_chart_and_data_table_agree(page_as: Any, live_server: Any, run_dir: Any) -> None:
    udp = page_as("udp@example.org")
    udp.get_by_role("link", name="Partecipazione").click()
    udp.wait_for_url("**/partecipazione/")
    chart = udp.locator("#chart-sub_ambiti")
    assert chart.get_attribute("aria-describedby") == "table-sub_ambiti"
    bars = chart.locator("rect.bar")
    rows = udp.locator("#table-sub_ambiti tbody tr")
    assert bars.count() == rows.count() == 6
    for index in range(rows.count()):
        name = rows.nth(index).locator("th").inner_text()
        rate = rows.nth(index).locator("td").nth(2).inner_text()
        title = bars.nth(index).locator("title").text_content()
        assert title == f"{name}: {rate}", (title, name, rate)
        width = float(bars.nth(index).get_attribute("width"))
        assert width == pytest.approx(float(rate.rstrip("%")) * 4, abs=0.5)
        assert bars.nth(index).bounding_box()["width"] > 10
    udp.screenshot(path=str(run_dir / "participation.png"), full_page=True)
