"""python -m minigrad.data [--no-download] [--root DIR]: find (or fetch) Fashion-MNIST and
verify all four files; prints where it is. Exit status 1 when it cannot be had."""
import argparse
import sys

from . import fashion_mnist as fm


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m minigrad.data", description=__doc__)
    ap.add_argument("--root", help="use this folder (and only this one)")
    ap.add_argument("--no-download", action="store_true", help="only look, never download")
    args = ap.parse_args(argv)
    try:
        folder = fm.locate(args.root, download_missing=not args.no_download)
        for name in fm.FILES:
            fm.load_verified(fm.file_in(folder, name), name)
    except (fm.DataNotFoundError, fm.ChecksumError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"Fashion-MNIST: {folder} (all four files verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
