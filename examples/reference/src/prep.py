"""Cleans a CSV of iris measurements: drops rows with a missing value."""
import argparse
import csv
import os


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    with open(args.raw, newline="") as src, \
            open(os.path.join(args.out, "iris.csv"), "w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        kept = 0
        for row in reader:
            if all(value.strip() for value in row.values()):
                writer.writerow(row)
                kept += 1
    print(f"kept {kept} rows")


if __name__ == "__main__":
    main()
