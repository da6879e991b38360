// Item cards (title, category, brand, score, reason) with the reaction
// buttons — like, dislike, rate 1 to 5 — that post an event for a user.
import { api } from './api.js';
import { fixed, h, route } from './dom.js';

/** The events the buttons post. */
export const REACTIONS = {
  like: { type: 'like', value: 1, label: 'Like', done: 'Liked' },
  dislike: { type: 'dislike', value: -1, label: 'Dislike', done: 'Disliked' },
};

/** Posts a reaction of user to item: a REACTIONS key, or a rating 1..5. */
export function react(user, item, reaction) {
  const ev = typeof reaction === 'number'
    ? { type: 'rating', value: reaction }
    : { type: REACTIONS[reaction].type, value: REACTIONS[reaction].value };
  return api('/v1/events', { method: 'POST', body: { user_id: user, item_id: item, ...ev } });
}

/** The buttons for item; onReact(reaction) is called on a click (the
 *  caller posts and refreshes). */
export function reactionButtons(item, title, onReact) {
  const rate = h('span', { class: 'rate', role: 'group', 'aria-label': `Rate ${title}` },
    [1, 2, 3, 4, 5].map((r) => h('button', {
      type: 'button', class: 'star', 'aria-label': `Rate ${title} ${r} of 5`, title: `Rate ${r}/5`,
      onclick: () => onReact(r),
    }, String(r))));
  return h('div', { class: 'reactions' },
    h('button', { type: 'button', class: 'like', 'aria-label': `Like ${title}`, onclick: () => onReact('like') },
      'Like'),
    h('button', { type: 'button', class: 'dislike', 'aria-label': `Dislike ${title}`,
      onclick: () => onReact('dislike') }, 'Dislike'),
    rate);
}

/** Why an item is listed: the reason's text, but with the title (and a
 *  link) of the item liked when items (a Map by id) knows it. */
function reasonText(reason, items) {
  const liked = reason.kind === 'liked' && reason.item_id ? items?.get(reason.item_id) : null;
  if (!liked?.title)
    return reason.text;
  return ['Because you liked ', h('a', { href: route('items', reason.item_id) }, liked.title)];
}

/** A card for an item of a list. item: the catalogue's item (may be
 *  undefined when it is not in the store); rec: { item_id, score, reason }
 *  or null; onReact: null for no buttons; items: the Map by id of the
 *  items known (to name the item a reason refers to). */
export function itemCard(id, item, rec, onReact, items) {
  const title = item?.title || id;
  return h('li', { class: 'card', dataset: { item: id, category: item?.category ?? '' } },
    h('a', { class: 'title', href: route('items', id) }, title),
    h('div', { class: 'meta' },
      item?.category ? h('span', { class: 'tag' }, item.category) : null,
      item?.brand ? h('span', { class: 'brand' }, item.brand) : null),
    rec ? h('div', { class: 'score' }, 'score ', h('b', {}, fixed(rec.score, 3))) : null,
    rec?.reason ? h('p', { class: 'reason' }, reasonText(rec.reason, items)) : null,
    onReact ? reactionButtons(id, title, onReact) : null);
}
