-- docs/explain-page.sql — the page behind docs/explain.png (docs/explain.md):
--   sqlite3 :memory: < docs/explain-page.sql > /tmp/explain.html
--   chromium --headless --no-sandbox --hide-scrollbars --window-size=860,390 \
--            --screenshot=docs/explain.png /tmp/explain.html
-- Two crafted sentences and reviews 680 and 2190 of the validation slice
-- (build/imdb-train.db: make eval unpacks it), on the default model.
.load ./sentiment
ATTACH 'file:build/imdb-train.db?mode=ro' AS imdb;
.mode list
.headers off
SELECT '<meta charset="utf-8"><body style="font:17px/1.7 sans-serif;max-width:46em;margin:1.2em">'
    || '<p style="color:#555">sentiment_highlight(text, ''default'', ''html''): '
    || '<mark style="background:#4cae4c">toward positive</mark> '
    || '<mark style="background:#e26667">toward negative</mark></p>';
SELECT printf('<p><b>%s %.2f</b> &nbsp;%s</p>', sentiment(t), sentiment_score(t),
              sentiment_highlight(t, 'default', 'html'))
FROM (SELECT 'The acting was wonderful but the plot was dull.' AS t
      UNION ALL SELECT 'The music is beautiful, but the ending is awful.'
      UNION ALL SELECT text FROM imdb.reviews WHERE id IN (680, 2190));
