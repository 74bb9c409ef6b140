"""The agent: journal, step table, brain protocol, loop and harness."""
