"""Models of change over time: endurance curves, training load, cohort growth, pain.

Nothing runs on import. Each submodule documents its formulas and sources.
"""

from rehab.features import daily_load, session_loads  # features, listed here beside the models
from rehab.models.cohort import GrowthResult, attach_protocol, fit_growth
from rehab.models.endurance import (
    EnduranceResult,
    Forecast,
    MonthlyChange,
    fit_endurance,
    label_change,
    monthly_best_change,
)
from rehab.models.load import (
    BanisterResult,
    banister_curve,
    fit_banister,
    fitness_fatigue,
    fitness_fatigue_chart,
)

# --- pain (rehab/models/pain.py): its imports go here, below this line ------------------------
from rehab.models.pain import (
    FlareResult,
    ImportantChangeResult,
    ITSResult,
    PainModelError,
    TrendResult,
    daily_pain,
    flare_rate,
    important_change,
    interrupted_time_series,
    pain_trend,
    sensitivity_trend,
    session_responses,
    weekly_pain,
    weekly_zone_counts,
    zones_chart,
)
from rehab.models.questionnaires import (
    QuestionnaireError,
    odi_band,
    rmdq_band,
    score_odi,
    score_questionnaires,
    score_rmdq,
)

__all__ = [
    # endurance, load, cohort
    "BanisterResult",
    "EnduranceResult",
    "Forecast",
    "GrowthResult",
    "MonthlyChange",
    "attach_protocol",
    "banister_curve",
    "daily_load",
    "fit_banister",
    "fit_endurance",
    "fit_growth",
    "fitness_fatigue",
    "fitness_fatigue_chart",
    "label_change",
    "monthly_best_change",
    "session_loads",
    # --- pain (rehab/models/pain.py): its names go here ---------------------------------------
    "FlareResult",
    "ITSResult",
    "ImportantChangeResult",
    "PainModelError",
    "QuestionnaireError",
    "TrendResult",
    "daily_pain",
    "flare_rate",
    "important_change",
    "interrupted_time_series",
    "odi_band",
    "pain_trend",
    "rmdq_band",
    "score_odi",
    "score_questionnaires",
    "score_rmdq",
    "sensitivity_trend",
    "session_responses",
    "weekly_pain",
    "weekly_zone_counts",
    "zones_chart",
]
