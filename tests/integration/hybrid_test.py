"""The hybrid strategy of `recsys serve`, over real HTTP on 127.0.0.1.

    hybrid_test.py RECSYS DIR

DIR holds shop.db (generated data, imported), models/ (one version with
the hybrid model) and gen/ (the generated CSV files). Checks: auto is
hybrid; a user with no history gets the content profile of a category; an
item created through the API is recommended at once to a user whose
history is in its category, with the reason "new in <category> you
follow"; diversity=1 lists more categories than diversity=0; explain=true
gives every item a reason under every strategy; hidden items never appear.
Prints one line per check; exits 1 on the first failure.
"""
import csv
import json
import sys

from httpcheck import Server, check

RECSYS, DIR = sys.argv[1], sys.argv[2]
SERVER = Server(RECSYS, f"sqlite://{DIR}/shop.db", f"file://{DIR}/models", f"{DIR}/hybrid.log")
request, problem = SERVER.request, SERVER.problem

items = {row["item_id"]: row for row in csv.DictReader(open(f"{DIR}/gen/items.csv"))}
category = {i: row["category"] for i, row in items.items()}
seen = {}
for row in csv.DictReader(open(f"{DIR}/gen/events.csv")):
    seen.setdefault(row["user_id"], set()).add(row["item_id"])
user = max(seen, key=lambda u: len(seen[u]))


def recommend(query):
    st, doc, _, _ = request("GET", "/v1/recommend?" + query)
    check(st == 200, f"recommend?{query[:70]} answers 200", doc)
    return doc


def ids(doc):
    return [i["item_id"] for i in doc["items"]]


def cat_of(item_id):
    return category.get(item_id, "new" if item_id.startswith("new-") else None)


# --- strategies -----------------------------------------------------------
doc = recommend(f"user_id={user}&n=10")
check(doc["strategy"] == "hybrid" and len(doc["items"]) == 10, "auto is hybrid when served", doc)
doc = recommend(f"user_id={user}&n=10&strategy=collab")
check(doc["strategy"] == "collab", "collab can still be asked for", doc)
by_cat = {}
for item, c in category.items():
    by_cat.setdefault(c, []).append(item)
cat = max(by_cat, key=lambda c: len(by_cat[c]))
doc = recommend(f"user_id=nobody-yet&n=5&category={cat}&explain=true")
check(doc["strategy"] == "hybrid" and len(doc["items"]) == 5
      and all(category[i] == cat for i in ids(doc))
      and all(i["reason"]["kind"] == "profile" for i in doc["items"]),
      "a user with no history gets the content profile of the category", doc)
doc = recommend("user_id=nobody-yet&n=5&explain=true")
check(doc["strategy"] == "popularity"
      and all(i["reason"]["kind"] == "popular" for i in doc["items"]),
      "without a category, a user with no history gets popular items", doc)

# --- a new item is recommendable at once ---------------------------------
# A fan of one category: likes its most popular items.
st, pop, _, _ = request("GET", "/v1/popular?n=200")
rank = {i["item_id"]: r for r, i in enumerate(pop["items"])}
liked = sorted(by_cat[cat], key=lambda i: rank.get(i, 999))[:8]
st, _, _, _ = request("POST", "/v1/events", json.dumps(
    {"events": [{"user_id": "fan", "item_id": i, "type": "like"} for i in liked]}))
check(st == 201, "the fan's likes are accepted")
before = recommend("user_id=fan&n=20")
# The new item looks like the fan's favourite: same category, tags, brand.
model = items[liked[0]]
new_item = {"item_id": "new-1", "title": model["title"], "category": cat,
            "brand": model["brand"], "tags": [t for t in model["tags"].split("|") if t]}
st, _, _, _ = request("POST", "/v1/items", json.dumps(new_item))
check(st == 201, "a new item is created through the API")
check("new-1" not in ids(before), "the new item was not there before")
after = recommend("user_id=fan&n=20&explain=true")
check("new-1" in ids(after), "the new item is recommended to the fan at once, without a retrain",
      ids(after))
reason = next(i["reason"] for i in after["items"] if i["item_id"] == "new-1")
check(reason["kind"] == "new" and reason["text"] == f"new in {cat} you follow",
      "its reason is 'new in <category> you follow'", reason)
other = next(c for c in by_cat if c != cat)
doc = recommend(f"user_id=fan&n=50&category={other}")
check("new-1" not in ids(doc), "the category filter applies to new items too")
doc = recommend("user_id=fan&n=20&exclude=new-1")
check("new-1" not in ids(doc), "exclude applies to new items too")
doc = recommend("user_id=fan&n=20&strategy=collab")
check("new-1" not in ids(doc), "collab does not know the new item")

# --- diversity -----------------------------------------------------------
def distinct(doc):
    return len({category.get(i) for i in ids(doc)})


users = sorted(seen, key=lambda u: -len(seen[u]))[:10]
plain = [distinct(recommend(f"user_id={u}&n=10&diversity=0")) for u in users]
varied = [distinct(recommend(f"user_id={u}&n=10&diversity=1")) for u in users]
check(sum(varied) > sum(plain) and all(v >= p for v, p in zip(varied, plain)),
      f"diversity=1 lists more categories than diversity=0 ({sum(varied)} vs {sum(plain)})")
doc = recommend(f"user_id={user}&n=10&diversity=0.5")
scores = [i["score"] for i in doc["items"]]
check(len(doc["items"]) == 10 and len(set(ids(doc))) == 10, "diversity keeps n distinct items")

# --- explanations ----------------------------------------------------------
for query in (f"user_id={user}&n=20", f"user_id={user}&n=20&strategy=collab",
              f"user_id={user}&n=20&strategy=popularity", "user_id=fan&n=20",
              f"user_id={user}&n=10&diversity=0.7", "user_id=stranger&n=10"):
    doc = recommend(query + "&explain=true")
    check(all(i.get("reason", {}).get("text") for i in doc["items"]) and doc["items"],
          f"explain: every item has a reason ({query})", doc["items"][:2])
doc = recommend(f"user_id={user}&n=10&explain=true")
liked_reasons = [i["reason"] for i in doc["items"] if i["reason"]["kind"] == "liked"]
check(liked_reasons and all(r["item_id"] in seen[user] for r in liked_reasons)
      and all(r["text"] == f"because you liked {r['item_id']}" for r in liked_reasons),
      "explain: 'because you liked' names an item of the user's history", liked_reasons[:2])
doc = recommend(f"user_id={user}&n=10")
check(all("reason" not in i for i in doc["items"]), "no reasons unless asked for")

# --- hidden items never appear -------------------------------------------
top = recommend(f"user_id={user}&n=1")["items"][0]["item_id"]
pop_top = pop["items"][0]["item_id"]
for item in (top, pop_top, "new-1"):
    st, _, _, _ = request("PATCH", f"/v1/items/{item}", json.dumps({"hidden": True}))
    check(st == 200, f"item {item} hidden")
hidden = {top, pop_top, "new-1"}
for query in (f"user_id={user}&n=100", f"user_id={user}&n=100&strategy=collab",
              f"user_id={user}&n=100&strategy=popularity", "user_id=fan&n=100",
              f"user_id=fan&n=100&category={cat}", f"user_id=fan&n=20&diversity=1",
              f"user_id=nobody-yet&n=100&category={cat}", "user_id=nobody-yet&n=100",
              f"user_id={user}&n=100&exclude_seen=false"):
    doc = recommend(query)
    check(not hidden & set(ids(doc)), f"hidden items never appear ({query})")
st, _, _, _ = request("PATCH", "/v1/items/new-1", json.dumps({"hidden": False}))
check("new-1" in ids(recommend("user_id=fan&n=20")), "an item shown again comes back at once")

check(SERVER.stop() == 0, "server stops cleanly")
