"""Tools that prepare what asv reads or read what asv wrote; none imports the benchmarks.

report, status and results_check each expose ``add_arguments(parser)`` and ``run(args)``, so
`radibench <command>` and ``python -m radibench.tools.<module>`` parse the same options the
same way. asv_results is the one reader of asv's results files.
"""
