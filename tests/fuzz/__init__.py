"""Scenario fuzzing: mutate the shipped scenario files and check the loader never crashes."""
