"""``python -m bench`` (``make bench``): every benchmark, one table each."""

from . import contact


def main() -> None:
    contact.main()


if __name__ == "__main__":
    main()
