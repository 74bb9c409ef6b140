"""The benchmark arena: tasks with hidden labels, graders, agents x tasks x seeds, leaderboards.

See docs/bench.md. Entry points: ``omicsagent bench prepare|run|grade|leaderboard``.
"""
