"""verl's custom reward-function file (`custom_reward_function.path`, name `compute_score`): the hybrid reward of
`pretrain/verl_rl.py`, re-exported.

verl executes this file by path, outside `sys.modules` (`verl.utils.import_utils.load_module`), once per reward
manager it builds; importing the real module instead keeps one reward cache per process and keeps dataclasses
(which need their module in `sys.modules`) out of the path-loaded file. Needs the repository on PYTHONPATH
(the launch script sets it, for Ray's workers too).
"""

from pretrain.verl_rl import compute_score

__all__ = ["compute_score"]
