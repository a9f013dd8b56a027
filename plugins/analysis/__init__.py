"""Run analysis: metrics (IC, Newey-West t, quintiles, performance), the HTML report and the risk report."""
