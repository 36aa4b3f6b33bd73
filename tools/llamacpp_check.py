#!/usr/bin/env python3
"""Compares how a LoRA adapter moves the last-position logits in llama.cpp and in tune.cpp (tools/llamacpp_check.sh).

    python3 tools/llamacpp_check.py LLAMA_BASE.json LLAMA_LORA.json OURS_BASE.json OURS_LORA.json

Each file is one JSON line of tools/llamacpp_logits.cpp or bench/logits_probe.cpp ({"logits": [V], "greedy": [...]}).
Prints one JSON line: the size of each engine's move (max |lora - base|), how far llama.cpp's move is from ours
(relative L2 error, Pearson correlation, max abs difference), the two engines' logits with the adapter apart (max abs,
and L2 relative to the move), the top-10 ids of each with the adapter, and whether the
argmax and the greedy continuations agree. Only the standard library: numbers, not plots.
"""
import json
import math
import sys


def load(path):
    with open(path) as f:
        return json.loads(f.readline())


def main():
    lb, ll, ob, ol = (load(p) for p in sys.argv[1:5])
    dl = [a - b for a, b in zip(ll["logits"], lb["logits"])]  # llama.cpp's move
    do = [a - b for a, b in zip(ol["logits"], ob["logits"])]  # ours
    n = len(do)
    ml, mo = sum(dl) / n, sum(do) / n
    cov = sum((a - ml) * (b - mo) for a, b in zip(dl, do))
    corr = cov / math.sqrt(sum((a - ml) ** 2 for a in dl) * sum((b - mo) ** 2 for b in do))
    rel = math.sqrt(sum((a - b) ** 2 for a, b in zip(dl, do)) / sum(b * b for b in do))

    def top(v, k=10):
        return sorted(range(len(v)), key=lambda i: -v[i])[:k]

    print(json.dumps({
        "n_vocab": n,
        "llama_cpp_move_max_abs": round(max(map(abs, dl)), 5),
        "tune_move_max_abs": round(max(map(abs, do)), 5),
        "move_relative_l2_error": round(rel, 5),
        "move_correlation": round(corr, 6),
        "move_max_abs_difference": round(max(abs(a - b) for a, b in zip(dl, do)), 5),
        "base_max_abs_difference": round(max(abs(a - b) for a, b in zip(lb["logits"], ob["logits"])), 5),
        # with the adapter, the two engines' logits apart, relative to the size of the move (the base noise cancels)
        "lora_max_abs_difference": round(max(abs(a - b) for a, b in zip(ll["logits"], ol["logits"])), 5),
        "lora_relative_l2_to_move": round(math.sqrt(sum((a - b) ** 2 for a, b in zip(ll["logits"], ol["logits"])) /
                                                    sum(b * b for b in do)), 5),
        "lora_top10_llama_cpp": top(ll["logits"]),
        "lora_top10_tune": top(ol["logits"]),
        "argmax_equal_base": top(lb["logits"], 1) == top(ob["logits"], 1),
        "argmax_equal_lora": top(ll["logits"], 1) == top(ol["logits"], 1),
        "greedy_llama_cpp_lora": ll.get("greedy"),
        "greedy_tune_lora": ol.get("greedy"),
        "greedy_llama_cpp_base": lb.get("greedy"),
        "greedy_tune_base": ob.get("greedy"),
    }))


if __name__ == "__main__":
    main()
