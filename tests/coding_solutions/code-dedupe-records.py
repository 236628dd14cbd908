# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def dedupe_records(records: list, keys: list | None = None) -> list:
    def norm(v):
        return v.strip().lower() if isinstance(v, str) else v

    seen = set()
    out = []
    for r in records:
        if keys is None:
            key = frozenset((k, norm(v)) for k, v in r.items())
        else:
            key = tuple(norm(r.get(k)) for k in keys)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
