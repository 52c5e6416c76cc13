"""``python -m bench`` (``make bench``): every benchmark, one table each."""

from . import bench_derive, contact, dashboard, keys, retention, stats


def main() -> None:
    """Intake, statistics, retention, key rotation and the dashboard, each next to its
    baseline or target."""
    contact.main()
    stats.main()
    bench_derive.main()
    retention.main()
    keys.main()
    dashboard.main()


if __name__ == "__main__":
    main()
