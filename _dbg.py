import tempfile
import pandas as pd; pd.set_option('display.width',250); pd.set_option('display.max_columns',30)
from analysis.demo.seed import ensure_demo_series
from analysis.series.trajectories import trajectories
from analysis.store import Store

s=Store(tempfile.mkdtemp()+'/d.duckdb'); ensure_demo_series(s, seed=13)
tr=trajectories(s,'rlhf-checkpoints')
print(tr.slices[['description','trend_q','departure_q','first_departure_label','departure_direction','flagged','driver','explained_by']].head(16))
for d in ['language = en','domain = general']:
    print(tr.trajectory(d)[['k','n','accuracy','b','c','departure','departure_p','departure_q']])
