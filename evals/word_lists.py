"""Counts the hand-typed word-list entries in rag/answering/ (issue #19 keeps them from growing):
string items of set/list/tuple literals, string keys of dict literals, and the alternatives of
regular expressions that hold a word.  python evals/word_lists.py [REPO]"""
import ast, re, sys
from pathlib import Path
root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
total = 0
per = {}
for p in sorted((root / "rag" / "answering").glob("*.py")):
    tree = ast.parse(p.read_text())
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
            n += sum(isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value.isalpha() for e in node.elts)
        elif isinstance(node, ast.Dict):
            n += sum(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "compile" and node.args:
            parts = []
            for a in ast.walk(node.args[0]):
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    parts.append(a.value)
            pat = "".join(parts)
            pieces = re.split(r"\|", pat)
            n += sum(1 for x in pieces if re.search(r"[a-z]{2,}", x))
    per[p.name] = n
    total += n
print(total, {k: v for k, v in per.items() if v})
