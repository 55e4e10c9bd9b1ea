"""From score files to the report: aggregate table, claims with verdicts, figures, report.

Data flows one way (each module has one job):

- :mod:`pipeline.report.stats`     bootstrap CIs of a mean and of a difference of means
- :mod:`pipeline.report.aggregate` score files + real-data references -> tidy tables
                                   (runs.csv, summary.csv) and headline metrics.json
- :mod:`pipeline.report.claims`    ``pipeline/claims/<paper>.yaml`` -> verdicts
- :mod:`pipeline.report.floor`     the quality floor read back: has a group of runs learned?
- :mod:`pipeline.report.figures`   matplotlib figures drawn only from pipeline outputs
- :mod:`pipeline.report.context`   the small API a paper's report section is written against
- :mod:`pipeline.report.sections`  one plug-in per paper (``render(ctx) -> markdown``)
- :mod:`pipeline.report.render`    report.md, self-contained report.html, DVC plot CSVs
"""
