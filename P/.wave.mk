WAVE_EXPORT := data/raw/wsd_leernetwerken_2018.csv
WAVE_SUPPLEMENT := data/raw/wsd_leernetwerken_2018_supplement.csv
WAVE_TEMPLATES := 
WAVE_TEXTS := waves/2018/texts
