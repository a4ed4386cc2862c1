"""The lab's core: jobs, the job controller base, run ids and times, progress, series, the
live-recording guard. No feature imports here."""
