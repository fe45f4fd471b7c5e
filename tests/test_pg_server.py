"""The throwaway PostgreSQL server of the tests starts wherever the clone sits: a clone
in a folder only its owner may enter (a root home, a CI workspace made by `mktemp -d`)
holds the venv and so the server binaries, which `nobody` (the user the server runs as
under root) cannot reach there."""

import os
import pwd
import subprocess

import psycopg

from .pg_server import RUN_AS, WHEEL_LIBS, pg_bin_dir, start_postgres


def test_the_server_starts_from_binaries_in_a_folder_only_its_owner_may_enter(tmp_path, monkeypatch):
    install = pg_bin_dir().parent  # .../site-packages/pgserver/pginstall
    site = tmp_path / "private" / "site"
    site.mkdir(parents=True)
    (tmp_path / "private").chmod(0o700)
    (site / install.parent.name).mkdir()
    (site / install.parent.name / install.name).symlink_to(install)
    if (install.parent.parent / WHEEL_LIBS).is_dir():
        (site / WHEEL_LIBS).symlink_to(install.parent.parent / WHEEL_LIBS)
    bin_dir = site / install.parent.name / install.name / "bin"
    monkeypatch.setenv("RAG_PG_BIN", str(bin_dir))
    if os.geteuid() == 0:  # the premise: the server's user cannot run them from there
        pw = pwd.getpwnam(RUN_AS)
        try:
            subprocess.run([str(bin_dir / "initdb"), "--version"], user=pw.pw_uid, group=pw.pw_gid,
                           extra_groups=[], capture_output=True, timeout=10)
            raise AssertionError(f"{RUN_AS} could run {bin_dir / 'initdb'}: the test proves nothing")
        except PermissionError:
            pass
    with start_postgres(tmp_path / "pg") as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")  # share/ and lib/ of the install are there
            assert conn.execute("SELECT '[3,4]'::vector <#> '[1,0]'::vector").fetchone()[0] == -3
    if os.geteuid() == 0:
        assert not server.root.exists()  # the private folder and its copy are gone
