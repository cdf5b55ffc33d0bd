"""The staging ledger: what each extract run (generation) was, in `staging/_ledger.json`.

For every generation it records the extract options and versions that shaped its chunks
(their fingerprint), whether the run finished, and, once it has, the chunks staging holds.
It is what makes staging trustworthy:

- **Options stay bound to staging.** A run whose extract options or parser/image versions
  differ from a generation's is refused, naming the options, unless --force-reextract asks
  to extract those articles again (`check_options`). Assemble refuses the same way, since
  it would publish staging shaped by other options than stats.json would record.
- **Nothing is dropped silently.** Assemble refuses staging whose last extract did not
  finish, and a chunk the ledger lists whose marker is missing (`check_for_assemble`); a
  later extract redoes a lost chunk's articles and drops it from the ledger (`complete`).

Written only by the build's launcher, under the output lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from pmc_pipeline import staging
from pmc_pipeline.outputs import Output

LEDGER_FILE = f"{staging.STAGING}/_ledger.json"
FORMAT = 1
RUNNING, COMPLETE = "running", "complete"


@dataclass
class Generation:
    number: int
    fingerprint: str | None  # None: staged by a version without a ledger
    shaped_by: dict  # the options and versions the fingerprint is made of
    status: str = RUNNING
    chunks: list[str] = field(default_factory=list)  # when complete: its chunks in staging
    listed: int = 0
    planned: int = 0  # articles the run set out to extract
    listing: dict | None = None  # what the listing was read from (Source.listed_from)


def fingerprint(shaped_by: Mapping) -> str:
    text = json.dumps(shaped_by, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read(output: Output) -> dict[int, Generation]:
    """The ledger's generations (empty for an output without staging). Staging chunks that
    predate the ledger appear as generations of unknown fingerprint."""
    if output.exists(LEDGER_FILE):
        try:
            content = output.read_json(LEDGER_FILE)
            generations = {
                int(number): Generation(**g) for number, g in content["generations"].items()
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise staging.StagingError(
                f"{LEDGER_FILE} is unreadable ({exc}); remove the staging folder to start over"
            ) from None
    else:
        generations = {}
    for chunk in staging.complete_chunks(output):
        number = staging.generation_of(chunk)
        if number not in generations:
            generations[number] = Generation(number, None, {}, COMPLETE)
        if generations[number].fingerprint is None:
            generations[number].chunks.append(chunk)
    return generations


def write(output: Output, generations: Mapping[int, Generation]) -> None:
    content = {
        "format": FORMAT,
        "generations": {str(n): asdict(g) for n, g in sorted(generations.items())},
    }
    output.write_json(LEDGER_FILE, content)


def differences(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    """'name: old -> new' for every leaf where two shaped_by dicts differ."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(differences(a, b, f"{prefix}{name}."))
        elif a != b:
            out.append(f"{prefix}{name}: {a!r} -> {b!r}")
    return out


def stale(generations: Mapping[int, Generation], current: str) -> list[Generation]:
    """Generations staged under another fingerprint than the current one."""
    return [g for _, g in sorted(generations.items()) if g.fingerprint != current]


def _mismatch(generation: Generation, shaped_by: Mapping) -> str:
    if generation.fingerprint is None:
        return f"generation {generation.number} was staged by a version without a ledger"
    changed = "; ".join(differences(generation.shaped_by, shaped_by))
    return f"generation {generation.number} was staged with other extract settings ({changed})"


def check_options(
    generations: Mapping[int, Generation], shaped_by: Mapping, force: bool
) -> frozenset[int]:
    """The generations whose articles this extract must redo (stale ones, with force);
    raises StagingError naming the options when some are stale and force is not given."""
    old = stale(generations, fingerprint(shaped_by))
    if old and not force:
        raise staging.StagingError(
            _mismatch(old[-1], shaped_by)
            + ": run with the same options, or add --force-reextract to extract those "
            "articles again with these"
        )
    return frozenset(g.number for g in old)


def check_for_assemble(
    output: Output, generations: Mapping[int, Generation], shaped_by: Mapping
) -> list[str]:
    """The chunks assemble reads; raises StagingError when staging must not be published:
    an extract that did not finish, a listed chunk without its marker, or staging whose
    newest generation was shaped by other options than this run's."""
    if not generations:
        return []
    running = [g.number for g in generations.values() if g.status != COMPLETE]
    if running:
        raise staging.StagingError(
            f"extract generation {running[-1]} did not finish (killed?): run extract "
            "(--phase extract or all) to finish it before assembling"
        )
    newest = generations[max(generations)]
    if newest.fingerprint != fingerprint(shaped_by):
        raise staging.StagingError(
            _mismatch(newest, shaped_by)
            + ": give assemble the same extract options, or extract again with these "
            "(--force-reextract)"
        )
    present = set(staging.complete_chunks(output))
    listed = [c for g in generations.values() for c in g.chunks]
    missing = sorted(set(listed) - present)
    if missing:
        raise staging.StagingError(
            f"staging chunk {missing[0]} (and {len(missing) - 1} more) is listed in "
            f"{LEDGER_FILE} but has no marker: run extract to redo its articles"
            if len(missing) > 1
            else f"staging chunk {missing[0]} is listed in {LEDGER_FILE} but has no marker: "
            "run extract to redo its articles"
        )
    extra = sorted(present - set(listed))
    if extra:
        raise staging.StagingError(
            f"staging chunk {extra[0]} is not in {LEDGER_FILE} (left by a run that did not "
            "finish): run extract to finish it before assembling"
        )
    return sorted(listed)


def start(
    output: Output,
    generations: dict[int, Generation],
    number: int,
    shaped_by: Mapping,
    listed: int,
    planned: int,
    listing: dict | None = None,
) -> None:
    generations[number] = Generation(
        number, fingerprint(shaped_by), dict(shaped_by), RUNNING, [], listed, planned, listing
    )
    write(output, generations)


def complete(output: Output, generations: dict[int, Generation]) -> list[str]:
    """After a finished extract: every generation complete, each listing the chunks staging
    now holds (a chunk lost since, and redone by this run, is dropped). Returns the chunks
    listed before that are gone now."""
    present = staging.complete_chunks(output)
    by_generation: dict[int, list[str]] = {}
    for chunk in present:
        by_generation.setdefault(staging.generation_of(chunk), []).append(chunk)
    lost = sorted({c for g in generations.values() for c in g.chunks} - set(present))
    for number, generation in generations.items():
        generation.status = COMPLETE
        generation.chunks = sorted(by_generation.get(number, []))
    write(output, generations)
    return lost


def chunks_of(generations: Iterable[Generation]) -> list[str]:
    return sorted(c for g in generations for c in g.chunks)
