"""The 100 CESM2 LENS2 member names as they appear in the GenFocal stores' `member` coordinate.

LENS2 (Rodgers et al. 2021) has 50 members with CMIP6 biomass-burning forcing (`cmip6_*`) and 50 with smoothed
biomass burning (`smbb_*`): macro-ensemble start years 1001, 1021, …, 1181 (cmip6) and 1011, 1031, …, 1191 (smbb)
with one member each, and micro-ensembles from start years 1231, 1251, 1281 and 1301 with 10 members each
(cmip6: 001–010, smbb: 011–020). The four training members of the reference are among them.
"""


def lens2_members() -> tuple[str, ...]:
    "All 100 LENS2 member names, cmip6 first."
    macro = [(f"cmip6_{1001 + 20 * i}_{i + 1:03d}", f"smbb_{1011 + 20 * i}_{i + 1:03d}") for i in range(10)]
    cmip6 = [m for m, _ in macro] + [f"cmip6_{y}_{k:03d}" for y in (1231, 1251, 1281, 1301) for k in range(1, 11)]
    smbb = [s for _, s in macro] + [f"smbb_{y}_{k:03d}" for y in (1231, 1251, 1281, 1301) for k in range(11, 21)]
    return tuple(cmip6 + smbb)
