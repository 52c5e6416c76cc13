"""``python -m bench`` (``make bench``): every benchmark, one table each."""

from . import bench_derive, contact, retention, stats


def main() -> None:
    """Intake, statistics and retention, each next to its baseline or target."""
    contact.main()
    stats.main()
    bench_derive.main()
    retention.main()


if __name__ == "__main__":
    main()
