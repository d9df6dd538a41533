"""One run: targets -> plan every repository -> limits -> execute, stoppable."""
