"""``python -m bench`` (``make bench``): every benchmark, one table each."""

from . import bench_derive, contact, dashboard, keys, retention, stats, topology


def main() -> None:
    """Intake, statistics, the deployed shapes (nginx, two app servers), retention, key
    rotation and the dashboard, each next to its baseline or target."""
    contact.main()
    stats.main()
    topology.main()
    bench_derive.main()
    retention.main()
    keys.main()
    dashboard.main()


if __name__ == "__main__":
    main()
