# class: sandbox: reading files
# Write outside the sandbox's folder: next to the solution, into the home, /tmp, the dotfiles.
import os


def solve(n):
    out = []
    for p in ["{ROOT}/pwned.txt", "{HOME}/.bashrc", "{HOME}/.ssh/authorized_keys",
              "/tmp/mockinterview-pwned.txt", "{ROOT}/../pwned.txt"]:
        try:
            with open(p, "a") as f:
                f.write("pwned\n")
            out.append(("wrote", p))
        except OSError as e:
            out.append((p, e.errno))
    try:
        os.symlink("{BANK}", "bank-link.yaml")
        with open("bank-link.yaml") as f:
            return f.read()
    except OSError as e:
        out.append(("symlink", e.errno))
    return repr(out)
