"""Writes the golden torch.save fixtures of TorchGoldenFilesTest (run with torch 2.13.0+cpu, Python 3.11).

    python make_fixtures.py   # in this folder; then update README.md's sha256 list
"""
import collections
import os

import torch


def zoo():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd = collections.OrderedDict()
    sd["embed.weight"] = base                      # tied: the same tensor object twice (a memo BINGET)
    sd["lm_head.weight"] = base
    sd["alias"] = base.view(3, 4)                  # another tensor object on the same storage
    sd["transposed"] = base.t()                    # non-contiguous: size (4, 3), stride (1, 4)
    sd["row2"] = base[2]                           # storage offset 8
    sd["bf16"] = torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16)
    sd["f16"] = torch.tensor([0.5, -0.25], dtype=torch.float16)
    sd["i64"] = torch.tensor([1, 2 ** 40, -3], dtype=torch.int64)
    sd["flags"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(7.0)
    sd["param"] = torch.nn.Parameter(torch.ones(2))  # _rebuild_parameter
    sd["f8"] = torch.tensor([1.0, -2.0], dtype=torch.float8_e4m3fn)
    return sd


def main():
    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4))
        lin.bias.copy_(torch.tensor([0.5, -1.0, 2.0]))
    torch.save(lin.state_dict(), "linear.bin")
    torch.save(zoo(), "zoo.bin")
    torch.save(zoo(), "zoo_legacy.bin", _use_new_zipfile_serialization=False)
    torch.save({"state_dict": lin.state_dict()}, "wrapped.pt")
    torch.save({"model": lin.state_dict(), "optimizer": {"state": {}}, "epoch": 3}, "checkpoint.pt")

    class Evil:
        def __reduce__(self):
            return os.system, ("echo pwned",)

    torch.save({"weight": torch.zeros(1), "evil": Evil()}, "evil.bin")


if __name__ == "__main__":
    main()
