"""Shared UI pieces of the Faultline app. Pages stay thin: read widgets, call :mod:`analysis`, draw with
:mod:`analysis.figures`, show tables with these helpers.

- :mod:`ui.session`: the page frame, the store, errors in plain words, choices that survive page switches.
- :mod:`ui.cache`: the engine's results cached per store and data version.
- :mod:`ui.tables`: tables formatted for display (rates as percentages, differences in points).
- :mod:`ui.cohort`: the cohort box (a filter in the rule language, saved cohorts, kept in the URL).
- :mod:`ui.jobs`: background work (clustering, the warm-up).
- :mod:`ui.uploads`: keeping uploaded files, and the Data page's plan of what to load.

The functions pages call are importable from ``ui`` itself (``import ui; ui.slices(...)``); the display
tables and their column headings are reached as ``ui.tables.*``.
"""

from ui.cache import (
    DEMO_SPEC_PATH,
    _open,
    annotation_table,
    attribute_notes,
    attributes,
    cached_clusters,
    cluster_cohort_table,
    cluster_embedders,
    cohort_example_ids,
    comparable_pair,
    comparison,
    comparison_drilldown,
    correctness_note,
    default_attributes_note,
    demo_spec_text,
    discovery,
    extras,
    figure,
    has_extras,
    headline,
    link_baseline,
    link_result,
    mode_examples,
    objective,
    outcomes,
    reconciliation,
    run_format,
    run_listing,
    saved_spec_listing,
    score_comparison,
    series_listing,
    series_mix,
    series_mix_along,
    series_mix_default,
    series_surrogate,
    series_trajectories,
    shared_baseline,
    shared_scores,
    shares_examples,
    slice_examples,
    slices,
)
from ui.cohort import (
    EXAMPLE_LINK_COLUMN,
    cohort_box,
    example_link,
    ids_condition,
    open_clicked,
    open_columns,
    open_example,
    set_cohort,
    with_example_links,
    with_open_buttons,
)
from ui.jobs import (
    SLICES_DEFAULTS,
    ClusterJob,
    cluster_job,
    computed_note,
    finish_cluster_job,
    forget_cluster_job,
    precompute_next,
    start_cluster_warm_up,
)
from ui.session import (
    DEMO_CHOICE,
    NO_SPEC_CHOICE,
    PAGE_ICON,
    SAVED_CHOICE,
    SESSION_CHOICE,
    choose_slice,
    chosen_slice,
    close_popover,
    cluster_slice_attributes,
    default_spec_choice,
    flash,
    get_store,
    md,
    open_on_slices_page,
    page_setup,
    page_with_run,
    pick_once,
    pin_clicked,
    remember,
    remember_list,
    remembered,
    remembered_list,
    remembered_text,
    reset_spec_draft,
    run_label,
    run_picker,
    run_spec,
    set_spec_draft,
    show_error,
    show_flash,
    show_pin_result,
    spec_choice_key,
    spec_draft,
    spec_of_choice,
    table_key,
    take_spec_upload,
)
from ui.tables import (
    fmt_interval,
    fmt_pct,
    fmt_points,
    fmt_q,
)
from ui.uploads import forget_plan, plan_uploads, prune_staged, upload_plan, upload_plan_error

__all__ = [
    "DEMO_SPEC_PATH", "PAGE_ICON", "ClusterJob", "_open", "annotation_table", "attribute_notes", "attributes", "cached_clusters",
    "cluster_embedders", "cluster_job", "comparison", "computed_note", "correctness_note",
    "default_attributes_note", "demo_spec_text", "discovery", "extras", "has_extras",
    "finish_cluster_job", "flash", "fmt_interval", "fmt_pct", "fmt_points", "fmt_q", "forget_cluster_job",
    "get_store", "headline", "link_baseline", "link_result", "md", "mode_examples", "objective", "page_setup", "page_with_run",
    "pick_once", "reconciliation", "remember", "remembered", "remembered_text", "reset_spec_draft", "run_listing",
    "run_label", "run_picker",
    "set_spec_draft", "show_error", "show_flash", "show_pin_result", "pin_clicked", "slice_examples", "slices", "figure", "spec_draft", "start_cluster_warm_up", "precompute_next",
    "take_spec_upload", "forget_plan", "close_popover", "choose_slice", "chosen_slice", "open_on_slices_page", "remember_list",
    "remembered_list", "table_key", "comparable_pair", "shared_baseline", "shares_examples", "plan_uploads", "prune_staged", "upload_plan", "upload_plan_error",
    "cohort_box", "outcomes", "cluster_cohort_table", "cohort_example_ids", "set_cohort", "ids_condition", "EXAMPLE_LINK_COLUMN", "example_link", "open_example", "with_example_links",
    "open_clicked", "open_columns", "with_open_buttons",
    "series_listing", "series_mix", "series_mix_along", "series_mix_default", "series_surrogate", "series_trajectories",
    "comparison_drilldown", "run_format", "saved_spec_listing", "score_comparison", "shared_scores",
    "SLICES_DEFAULTS", "cluster_slice_attributes",
    "DEMO_CHOICE", "NO_SPEC_CHOICE", "SAVED_CHOICE", "SESSION_CHOICE", "default_spec_choice", "run_spec",
    "spec_choice_key", "spec_of_choice",
]
