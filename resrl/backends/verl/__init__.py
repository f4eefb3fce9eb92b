"""veRL backend: the project's RLVR algorithms on veRL (Ray, FSDP, vLLM) without a fork of veRL.

Written against the installed ``verl`` 0.9.1 (the V1 trainer with engine workers); the ``verl`` extra pins
``>=0.9.1,<0.10`` because the extension points used here (engine workers, the reward loop, the V1 trainer
registry) changed shape across minor releases.

Pure modules (no ``verl`` import, testable anywhere): :mod:`.config` (our Hydra config -> veRL overrides),
:mod:`.launch` (CLI, dry run), :mod:`.grouping` (group-preserving batch balancing), :mod:`.checkpoint`
(layout of veRL checkpoints -> a ``save_pretrained`` folder). Modules that import ``verl``:
:mod:`.register` (policy loss, advantage estimators, reward manager, trainer), :mod:`.losses`,
:mod:`.workers`, :mod:`.reward`, :mod:`.main` (the entry veRL's Ray job runs).
"""

VERL_READ_VERSION = "0.9.1"
VERL_REQUIREMENT = "verl>=0.9.1,<0.10"
