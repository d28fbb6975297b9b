// The rules the embedded-store rules tests run against (the HTTP fixture app uses the same shapes).

export const ORDERS_RULES = {
  database: 'shop',
  collection: 'orders',
  roles: [
    { name: 'admin', apply_when: { '%%user.id': { $in: '%%values.adminIds' } }, read: true, write: true, insert: true, delete: true, search: true },
    {
      name: 'owner',
      apply_when: { owner_id: '%%user.id' },
      insert: true,
      delete: true,
      search: true,
      fields: {
        status: { read: true, write: false },
        tags: { read: true, write: false },
        internal: { read: false, write: false },
        address: { fields: { city: { read: true, write: true }, secretCode: { read: false } } },
      },
      additional_fields: { read: true, write: true },
    },
    { name: 'reader', apply_when: { shared: true }, read: true, write: false, insert: false, delete: false },
  ],
  filters: [],
};

export const ORDERS_SCHEMA = {
  title: 'order',
  required: ['_id', 'owner_id', 'item'],
  properties: {
    _id: { bsonType: 'objectId' },
    owner_id: { bsonType: 'string' },
    item: { bsonType: 'string', minLength: 1 },
    qty: { bsonType: 'int', minimum: 1, maximum: 100, validate: { '%or': [{ '%%prev': { '%exists': false } }, { '%%this': { $gte: '%%prev' } }] } },
    tags: { bsonType: 'array', items: { bsonType: 'string' }, maxItems: 5 },
    address: { bsonType: 'object', properties: { city: { bsonType: 'string' }, zip: { bsonType: 'string', pattern: '^[0-9]{5}$' } } },
    status: { enum: ['new', 'paid', 'shipped'] },
    price: { bsonType: 'decimal' },
    created: { bsonType: 'date' },
  },
};

export const ITEMS_RULES = {
  database: 'shop',
  collection: 'items',
  roles: [{ name: 'everyone', apply_when: {}, read: true, write: true }],
  filters: [
    { name: 'published', apply_when: { '%%user.data.email': { '%exists': true } }, query: { published: true }, projection: { cost: 0 } },
    { name: 'never', apply_when: { '%%user.type': 'server' }, query: { nothing: true } },
  ],
};

export const PROFILES_RULES = {
  database: 'shop',
  collection: 'profiles',
  roles: [
    {
      name: 'self',
      apply_when: {},
      document_filters: { read: { user_id: '%%user.id' }, write: { user_id: '%%user.id' } },
      read: true,
      write: true,
    },
  ],
};

/** Collections without rules.json fall back to this: read-only, no inserts. */
export const DEFAULT_RULE = {
  roles: [{ name: 'readOnly', apply_when: {}, read: true, write: false, insert: false, delete: false }],
  filters: [],
};
