"""Agent evaluation (paper Table 3): ALFWorld (and plain TextWorld games) through the real TextWorld engine,
and WebShop through its text environment, played as multi-turn chats (``resrl.rollout.multi_turn``).

- :mod:`evaluators.agents.data`: data folders and the games of a split (clear errors with download commands);
- :mod:`evaluators.agents.prompting`: ReAct-style prompts (task, observation, admissible actions, format);
- :mod:`evaluators.agents.actions`: reading the action out of a reply;
- :mod:`evaluators.agents.text_game`: ``TextGameEnv``, a ChatEnv over an ALFWorld or TextWorld game;
- :mod:`evaluators.agents.webshop`: ``WebShopEnv``, a ChatEnv over WebShop's ``WebAgentTextEnv``;
- :mod:`evaluators.agents.registry`: ``make_envs(env, split, episodes, data_dir, seed, max_steps)``;
- :mod:`evaluators.agents.metrics`: tidy rows (``alfworld``, ``alfworld_<type>``, ``webshop``);
- :mod:`evaluators.agents.run` / ``python -m evaluators.agents``: the evaluation run;
- :mod:`evaluators.agents.make_games` / :mod:`evaluators.agents.alfred_problem`: the shipped small game set.
"""
