"""The part of the code sandbox that runs inside the sandbox. Standard library only.

Process tree (``namespace`` mode; in ``fallback`` mode the ``unshare`` step is missing)::

    evaluator (trusted) -> unshare (new net, pid, mount, ipc, uts namespaces)
        -> python .../child/__main__.py, PID 1 of the new PID namespace: the *supervisor* (trusted)
            -> one forked *worker* per test unit: drops privileges, sets rlimits, installs the Python guard
               (an audit hook), then runs the untrusted program through the harness.

Modules, each with one job (the messages between the processes are in ``protocol``):

    protocol     the wire protocol: typed messages (job, results, status lines) and their frames; shared with the parent
    codec        plain data <-> tagged JSON, the only form in which values cross the boundary; shared with the parent
    policy       what the guard refuses and what every program gets pre-imported, as data
    guard        the audit hook enforcing the policy
    asserts      the rewriting of ``run_tests``'s test code (strict ``==``, assert lines)
    harness      runs the program in the worker and writes the one record the verdict trusts
    rootfs       namespace mode's fresh root file system
    worker       the forked process per unit: confinement, then the harness
    pump         the supervisor's I/O with one worker: pipes, deadlines, caps, reaping
    verdict      pure classification of what the pump saw into a ``UnitResult``
    supervisor   the job loop; ``__main__`` is its entry point

The verdict is the supervisor's: a record without the worker's nonce is ignored, and a worker that exits without a
record (``sys.exit``/``os._exit`` before the tests ran, a killed process) is a runtime error. For stdin/stdout and
call-and-compare tests the expected answers never enter the sandbox; the parent compares.

Inside the sandbox this package is the top-level package ``child``; the parent imports its shared modules as
``evaluators.code.sandbox.child.protocol`` and ``...codec``, which is why every import between its modules is
relative. Every module imports only the standard library and its siblings, at module level, so everything is loaded
when the supervisor starts, long before a worker installs its guard (``tests/evaluators/code/test_sandbox_imports.py``
proves both). This file imports nothing: the parent importing the codec does not load the supervisor.
"""
