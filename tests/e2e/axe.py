"""axe-core for the accessibility checks: fetched once from the npm registry, pinned and verified.

``axe_source()`` returns ``axe.min.js`` of axe-core ``AXE_VERSION`` (MPL-2.0, Deque Systems). The
package is fetched with ``npm pack`` into ``test-artifacts/axe-core-<version>/`` the first time (the
tarball's sha512 must equal the registry's ``dist.integrity`` pinned here) and read from there after;
nothing is downloaded at import. ``serious_violations(page)`` runs it on a page and returns the
violations of impact serious or critical.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (  # `npm view axe-core@4.14.1 dist.integrity`
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ"
    "=="
)
CACHE = Path(__file__).resolve().parents[2] / "test-artifacts" / f"axe-core-{AXE_VERSION}"

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""


def _integrity(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def _fetch() -> Path:
    """``npm pack axe-core@AXE_VERSION``, checked against the pinned integrity, unpacked."""
    CACHE.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch axe-core (Debian: apt-get install npm)")
    subprocess.run(
        [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(CACHE)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    tarball = CACHE / f"axe-core-{AXE_VERSION}.tgz"
    if _integrity(tarball) != AXE_INTEGRITY:
        tarball.unlink()
        raise RuntimeError(f"axe-core {AXE_VERSION}: the tarball does not match the pinned sha512")
    with tarfile.open(tarball) as archive:
        for name in ("axe.min.js", "LICENSE"):
            member = archive.extractfile(f"package/{name}")
            assert member is not None, name
            (CACHE / name).write_bytes(member.read())
    return CACHE / "axe.min.js"


@cache
def axe_source() -> str:
    script = CACHE / "axe.min.js"
    if not script.is_file():
        script = _fetch()
    return script.read_text(encoding="utf-8")


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (the page's context
    needs ``bypass_csp=True``: the service's pages allow no script at all)."""
    page.add_script_tag(content=axe_source())
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found
