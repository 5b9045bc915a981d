"""The built-in email texts the playbook gallery installs, in English and Simplified Chinese.

Written in a founder's own voice: short, warm, signed by a person (``{{ sender }}``), one
question or one thing to do. Each is checked by tend.messaging.templating like any template a
founder writes (a test walks them all), and installed as an ordinary editable template.
"""

from __future__ import annotations

from typing import Any

SIGN_EN = "\n\n{{ sender }}\n{{ business.name }}\n"
SIGN_ZH = "\n\n{{ sender }}\n{{ business.name }}\n"
HI_EN = "Hi {{ contact.first_name | default(customer.name) }},\n\n"
HI_ZH = "{{ contact.first_name | default(customer.name) }}，你好！\n\n"

BUILTINS: list[dict[str, Any]] = [
    {
        "key": "welcome",
        "name": "Welcome",
        "name_zh_hans": "欢迎邮件",
        "description": "The first email after sign-up: thanks, one first step, a person to answer.",
        "description_zh_hans": "注册后的第一封邮件：感谢、第一步该做什么，以及有人随时回复。",
        "subject_en": "Welcome to {{ business.name }}, "
        "{{ contact.first_name | default(customer.name) }}",
        "body_en": HI_EN + "Thanks for signing up — I'm really glad you're here.\n\n"
        "The best first step is to set up the one thing you came for; it takes about ten "
        "minutes, and everything else builds on it.\n\n"
        "If anything is unclear, just reply to this email. It comes straight to me, and I "
        "answer every one myself." + SIGN_EN,
        "subject_zh_hans": "欢迎使用 {{ business.name }}",
        "body_zh_hans": HI_ZH + "谢谢你的注册，很高兴认识你。\n\n"
        "建议先把你最想解决的那件事设置好，大约十分钟就够了，其他功能都建立在它之上。\n\n"
        "有任何不清楚的地方，直接回复这封邮件就行。邮件会直接到我这里，每一封我都会亲自回复。"
        + SIGN_ZH,
    },
    {
        "key": "onboarding-day-3",
        "name": "Onboarding: day 3",
        "name_zh_hans": "上手指引：第 3 天",
        "description": "Three days in: the one habit that makes the product useful.",
        "description_zh_hans": "第 3 天：让产品真正有用的一个习惯。",
        "subject_en": "A quick tip for your first week",
        "body_en": HI_EN
        + "You've had a few days to look around. One tip that helps most people: pick one "
        "small task you do every week and do it in {{ business.name }} this week. Habits "
        "make tools useful, not features.\n\n"
        "Stuck on anything? Reply and tell me where — I'll help you through it." + SIGN_EN,
        "subject_zh_hans": "第一周的一个小建议",
        "body_zh_hans": HI_ZH
        + "你已经用了几天了。有个建议对大多数人都很有帮助：挑一件你每周都要做的小事，"
        "这周就用 {{ business.name }} 来完成它。真正让工具有用的是习惯，而不是功能。\n\n"
        "遇到卡住的地方了吗？回复告诉我在哪一步，我来帮你。" + SIGN_ZH,
    },
    {
        "key": "onboarding-day-7",
        "name": "Onboarding: day 7",
        "name_zh_hans": "上手指引：第 7 天",
        "description": "One week in: three things worth trying, and a question.",
        "description_zh_hans": "第一周：三件值得试试的事，外加一个问题。",
        "subject_en": "Your first week with {{ business.name }}",
        "body_en": HI_EN
        + "It's been a week — thank you for giving us a real try. Three things worth a look "
        "if you haven't yet:\n\n"
        "1. Invite a teammate, so it isn't only on you.\n"
        "2. Turn on the weekly summary, so you don't have to remember to check.\n"
        "3. Tell me what you hoped we'd do that we don't.\n\n"
        "That last one matters most to me. What would make this week-two worth it for you?"
        + SIGN_EN,
        "subject_zh_hans": "你使用 {{ business.name }} 的第一周",
        "body_zh_hans": HI_ZH + "已经一周了，谢谢你认真试用。如果还没试过，这三件事值得看看：\n\n"
        "1. 邀请一位同事，不用所有事情都你一个人扛。\n"
        "2. 打开每周摘要，这样不用特意记着去查看。\n"
        "3. 告诉我你希望我们做到、但还没做到的事。\n\n"
        "最后一点对我最重要。怎样才能让第二周对你更有价值？" + SIGN_ZH,
    },
    {
        "key": "monthly-check-in",
        "name": "Monthly check-in",
        "name_zh_hans": "每月问候",
        "description": "A short personal note once a month: how is it going, anything to fix?",
        "description_zh_hans": "每月一封简短的私人问候：用得怎么样，有什么要改进？",
        "subject_en": "How's it going, {{ contact.first_name | default(customer.name) }}?",
        "body_en": HI_EN
        + "Just checking in. How is {{ business.name }} working for you this month?\n\n"
        "If there's one thing that annoys you or slows you down, I'd love to hear it — "
        "a one-line reply is plenty." + SIGN_EN,
        "subject_zh_hans": "最近用得怎么样？",
        "body_zh_hans": HI_ZH + "来问候一下：这个月 {{ business.name }} 用得怎么样？\n\n"
        "如果有哪件事让你觉得麻烦或拖慢了你，很想听你说说，回复一句话就够了。" + SIGN_ZH,
    },
    {
        "key": "renewal-reminder",
        "name": "Renewal reminder",
        "name_zh_hans": "续费提醒",
        "description": "Before the renewal date (60, 30 or 7 days): the date, the plan, a "
        "question.",
        "description_zh_hans": "续费日之前（60、30 或 7 天）：续费日、套餐和一个问题。",
        "subject_en": "Your renewal is coming up"
        "{% if days_left is number %} in {{ days_left }} days{% endif %}",
        "body_en": HI_EN
        + "A friendly heads-up: your {% if customer.plan %}{{ customer.plan }} plan{% else %}"
        "subscription{% endif %} renews {% if customer.renewal_date %}on "
        "{{ customer.renewal_date }}{% else %}soon{% endif %}. You don't need to do anything "
        "to keep it running.\n\n"
        "If you'd like to change your plan, or something isn't working as it should, reply "
        "before then and I'll sort it out with you." + SIGN_EN,
        "subject_zh_hans": "{% if days_left is number %}你的订阅还有 {{ days_left }} 天续费"
        "{% else %}你的订阅即将续费{% endif %}",
        "body_zh_hans": HI_ZH
        + "提醒一下：你的{% if customer.plan %}{{ customer.plan }}套餐{% else %}订阅{% endif %}"
        "{% if customer.renewal_date %}将在 {{ customer.renewal_date }} 续费{% else %}即将续费"
        "{% endif %}。你不需要做任何操作，服务会照常继续。\n\n"
        "如果想调整套餐，或者有哪里用得不顺，请在那之前回复我，我们一起解决。" + SIGN_ZH,
    },
    {
        "key": "at-risk-rescue",
        "name": "At-risk rescue",
        "name_zh_hans": "流失风险挽回",
        "description": "When health drops: a plain offer of help, no pressure.",
        "description_zh_hans": "健康分下降时：直接提出帮忙，不施加压力。",
        "subject_en": "Can I help?",
        "body_en": HI_EN
        + "I noticed things have been quieter on your side lately, and I wanted to ask "
        "directly: is {{ business.name }} still doing what you need?\n\n"
        "If something got in the way — a bug, a missing feature, or just no time — tell me. "
        "I'd be happy to set up a 15-minute call and get it working for you." + SIGN_EN,
        "subject_zh_hans": "需要帮忙吗？",
        "body_zh_hans": HI_ZH
        + "注意到你最近用得少了一些，想直接问问：{{ business.name }} 还能满足你的需要吗？\n\n"
        "如果遇到了阻碍，不管是问题、缺少的功能，还是单纯没时间，都可以告诉我。"
        "我很乐意约 15 分钟通个电话，帮你把它用起来。" + SIGN_ZH,
    },
    {
        "key": "win-back",
        "name": "Win-back offer",
        "name_zh_hans": "挽回优惠",
        "description": "After churn: what changed since, and a coupon code ({{ coupon }}).",
        "description_zh_hans": "客户流失后：介绍改进之处，并附上优惠码（{{ coupon }}）。",
        "subject_en": "We'd love to have you back",
        "body_en": HI_EN
        + "It's been a while since you left {{ business.name }}, and I wanted to say thank "
        "you for the time you spent with us.\n\n"
        "We've been busy improving things since then. If you'd like to give us another try, "
        "{% if coupon %}use the code **{{ coupon }}** when you come back — it's on me.{% else %}"
        "reply and I'll make it worth your while.{% endif %}\n\n"
        "And if we let you down, I'd honestly like to know why." + SIGN_EN,
        "subject_zh_hans": "欢迎回来",
        "body_zh_hans": HI_ZH + "你离开 {{ business.name }} 有一段时间了，想谢谢你之前的陪伴。\n\n"
        "这段时间我们一直在改进。如果你愿意再试一次，"
        "{% if coupon %}回来时使用优惠码 **{{ coupon }}**，算我的心意。{% else %}"
        "直接回复我，我会给你一个值得回来的理由。{% endif %}\n\n"
        "如果是我们让你失望了，也真心想知道原因。" + SIGN_ZH,
    },
    {
        "key": "referral-invitation",
        "name": "Referral invitation",
        "name_zh_hans": "推荐邀请",
        "description": "For happy customers: would you introduce someone who'd benefit?",
        "description_zh_hans": "面向满意的客户：愿意介绍可能受益的朋友吗？",
        "subject_en": "A small favour?",
        "body_en": HI_EN
        + "Thank you for being with {{ business.name }}{% if customer.signed_up %} since "
        '{{ customer.signed_up | date("long") }}{% endif %}. Customers like you are how '
        "a small company like ours grows.\n\n"
        "If you know someone who'd get as much out of it as you do, would you introduce us? "
        "Just reply with their name, or forward this email to them." + SIGN_EN,
        "subject_zh_hans": "想请你帮个小忙",
        "body_zh_hans": HI_ZH
        + '谢谢你{% if customer.signed_up %}从 {{ customer.signed_up | date("long") }} '
        "起{% endif %}"
        "一直使用 {{ business.name }}。像我们这样的小公司，正是靠你这样的客户成长起来的。\n\n"
        "如果你认识也能从中受益的朋友，愿意帮我们介绍一下吗？回复告诉我他们的名字，"
        "或者直接把这封邮件转发给他们就好。" + SIGN_ZH,
    },
    {
        "key": "birthday",
        "name": "Birthday greeting",
        "name_zh_hans": "生日祝福",
        "description": "On the customer's birthday: a short, personal note.",
        "description_zh_hans": "客户生日当天：一封简短的私人祝福。",
        "subject_en": "Happy birthday, {{ contact.first_name | default(customer.name) }}!",
        "body_en": HI_EN
        + "Happy birthday from all of us at {{ business.name }}! I hope today is a good one "
        "and the year ahead is even better.\n\n"
        "Thanks for being part of our story." + SIGN_EN,
        "subject_zh_hans": "生日快乐，{{ contact.first_name | default(customer.name) }}！",
        "body_zh_hans": HI_ZH
        + "{{ business.name }} 全体祝你生日快乐！愿你今天开开心心，新的一岁一切顺利。\n\n"
        "谢谢你一直以来的支持。" + SIGN_ZH,
    },
    {
        "key": "holiday-greeting",
        "name": "Holiday greeting",
        "name_zh_hans": "节日问候",
        "description": "On a holiday from the calendar ({{ holiday }}): warm wishes, nothing "
        "to sell.",
        "description_zh_hans": "日历上的节日（{{ holiday }}）：送上祝福，不推销任何东西。",
        "subject_en": "{% if holiday %}Happy {{ holiday }}!{% else %}Season's greetings!"
        "{% endif %}",
        "body_en": HI_EN
        + "{% if holiday %}Wishing you a happy {{ holiday }}{% else %}Warm wishes for the "
        "holidays{% endif %} from everyone at {{ business.name }}.\n\n"
        "Thank you for your trust this year. I hope you get a proper rest with the people "
        "you care about." + SIGN_EN,
        "subject_zh_hans": "{% if holiday %}{{ holiday }}快乐！{% else %}节日快乐！{% endif %}",
        "body_zh_hans": HI_ZH
        + "{{ business.name }} 全体祝你{% if holiday %}{{ holiday }}快乐{% else %}节日快乐"
        "{% endif %}！\n\n"
        "感谢你这一年的信任，愿你和在乎的人好好休息，过个愉快的假期。" + SIGN_ZH,
    },
]


def builtin_templates() -> list[dict[str, Any]]:
    """The built-in email texts: key, name and description (and their _zh_hans), and subject
    and body in both languages. Copies, so callers may change them."""
    return [dict(entry) for entry in BUILTINS]


def builtin_template(key: str) -> dict[str, Any] | None:
    for entry in BUILTINS:
        if entry["key"] == key:
            return dict(entry)
    return None
