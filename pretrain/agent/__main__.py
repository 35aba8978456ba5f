"""`python -m pretrain.agent`: see `pretrain.agent.run`."""

from pretrain.agent.run import main

raise SystemExit(main())
