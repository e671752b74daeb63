"""Reads SGLang's launch surface from its source, so src/sglang/launch-surface.ts can be checked by hand.

usage: python3 extract.py <sglang git dir> [commit] [FLAG_OR_ENV ...]

Prints, for each name given (or a count when none is given), how SGLang's current source treats it:
  flag accepted        a ServerArgs field that add_cli_args_from_dataclass turns into --field-name (or an alias)
  flag deprecated      registered by hand with a Deprecated* action (warns or refuses; do not print it)
  flag missing         argparse would answer "unrecognized arguments"
  env  <file>          the file that reads the variable (environ.py Env* attributes, or os.environ/os.getenv)
Reads with `git show`, so it needs no work tree and never imports SGLang.
"""
import ast
import re
import subprocess
import sys


def show(git_dir, commit, path):
    return subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout


def kw(call, name):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def server_args_flags(src):
    tree = ast.parse(src)
    accepted, deprecated = {}, {}
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ServerArgs")
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        ann = node.annotation
        if not (isinstance(ann, ast.Subscript) and getattr(ann.value, "id", None) == "A"):
            continue
        elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        meta = elts[1] if len(elts) > 1 else None
        field = node.target.id
        names = ["--" + field.replace("_", "-")]
        if isinstance(meta, ast.Call) and getattr(meta.func, "id", None) == "Arg":
            no_cli = kw(meta, "no_cli")
            if isinstance(no_cli, ast.Constant) and no_cli.value is True:
                continue
            cli = kw(meta, "cli_name")
            if isinstance(cli, ast.Constant):
                names = [cli.value]
            aliases = kw(meta, "aliases")
            if isinstance(aliases, ast.List):
                names += [e.value for e in aliases.elts if isinstance(e, ast.Constant)]
        elif not (isinstance(meta, ast.Constant) and isinstance(meta.value, str)):
            continue
        for n in names:
            accepted[n] = field
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "add_cli_args")
    for call in ast.walk(fn):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "add_argument":
            flags = [a.value for a in call.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")]
            action = kw(call, "action")
            action_name = getattr(action, "id", None) or getattr(action, "attr", None) or ""
            for f in flags:
                (deprecated if action_name.startswith("Deprecated") else accepted)[f] = action_name or "manual"
    return accepted, deprecated


def env_readers(git_dir, commit):
    out = {}
    envsrc = show(git_dir, commit, "python/sglang/srt/environ.py")
    for m in re.finditer(r"^\s+([A-Z][A-Z0-9_]+)\s*=\s*Env\w+\(", envsrc, re.M):
        out.setdefault(m.group(1), "python/sglang/srt/environ.py")
    grep = subprocess.run(
        ["git", "-C", git_dir, "grep", "-n", "-E", r"(os\.environ(\.get)?|os\.getenv|_get_env)\(?\[?\s*\"[A-Z][A-Z0-9_]+\"", commit, "--", "python/sglang"],
        capture_output=True, text=True,
    ).stdout
    for line in grep.splitlines():
        _, path, _, text = line.split(":", 3)
        for name in re.findall(r"\"([A-Z][A-Z0-9_]+)\"", text):
            out.setdefault(name, path)
    return out


def main():
    git_dir = sys.argv[1]
    commit = sys.argv[2] if len(sys.argv) > 2 and re.fullmatch(r"[0-9a-f]{7,40}|HEAD", sys.argv[2]) else "HEAD"
    names = [a for a in sys.argv[2:] if a != commit]
    accepted, deprecated = server_args_flags(show(git_dir, commit, "python/sglang/srt/server_args.py"))
    envs = env_readers(git_dir, commit)
    sha = subprocess.run(["git", "-C", git_dir, "rev-parse", commit], capture_output=True, text=True).stdout.strip()
    print(f"# sglang {sha}: {len(accepted)} accepted flags, {len(deprecated)} deprecated, {len(envs)} env vars read")
    for n in names:
        if n.startswith("--"):
            print(f"{n}\tflag {'accepted' if n in accepted else 'deprecated' if n in deprecated else 'missing'}")
        else:
            print(f"{n}\tenv {envs.get(n, 'not read by SGLang')}")


if __name__ == "__main__":
    main()
