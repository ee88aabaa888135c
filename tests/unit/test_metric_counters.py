"""How the metric sampler turns two readings of per-device counters into what was counted between them."""
from __future__ import annotations

from gateway.metric_sampler import growth


def test_a_counter_that_grew_counts_its_growth_per_device() -> None:
    assert growth([("nic-a", 7000), ("nic-b", 100)], [("nic-a", 5000), ("nic-b", 40)], restarted=False) == 2060


def test_a_replaced_nic_counts_from_zero_and_does_not_hide_the_others_growth() -> None:
    # Summed, 7300 < 5000 + 4000 would read as a reset and lose nic-a's 2000.
    assert growth([("nic-a", 7000), ("nic-c", 300)], [("nic-a", 5000), ("nic-b", 4000)], restarted=False) == 2300


def test_a_counter_that_went_back_counted_from_zero_since_migration() -> None:
    assert growth([("nic-a", 800)], [("nic-a", 5000)], restarted=False) == 800


def test_after_a_restart_a_counter_counts_from_zero_even_when_it_passed_its_earlier_value() -> None:
    assert growth([("disk-a", 9000)], [("disk-a", 5000)], restarted=True) == 9000


def test_without_an_earlier_reading_or_a_value_nothing_is_counted() -> None:
    assert growth([("nic-a", 7000)], None, restarted=False) is None
    assert growth([("nic-a", None)], [("nic-a", 5000)], restarted=False) is None
